// SPDX-License-Identifier: Apache-2.0

// The package's shared PostgreSQL server, owned by TestMain.

package postgres

import (
	"os"
	"testing"

	"github.com/interlockhq/interlock/test/pgtest"
)

// dbName is the name agents reach the server by, through the proxy.
const dbName = "orders.postgres.database.azure.com"

var pg = pgtest.Shared{Options: pgtest.Options{
	ServerNames: []string{dbName},
	Settings:    map[string]string{"log_connections": "on"},
}}

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// SPDX-License-Identifier: Apache-2.0

// The package's shared server, owned by TestMain.

package pgtest

import (
	"os"
	"testing"
)

// azureName is a name later tests reach the server by through the proxy.
const azureName = "orders.postgres.database.azure.com"

var shared = Shared{Options: Options{ServerNames: []string{azureName}}}

func TestMain(m *testing.M) { os.Exit(shared.Main(m)) }

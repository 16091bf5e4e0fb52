// SPDX-License-Identifier: Apache-2.0

// Close: stop the postmaster and remove the directory.

package pgtest

import (
	"errors"
	"fmt"
	"net"
	"os"
)

// Close stops the server with a fast shutdown (SIGINT), kills it if it
// has not stopped within Options.StopTimeout, and removes its directory.
// It returns once the postmaster has exited. Calls after the first return
// net.ErrClosed.
func (s *Server) Close() error {
	err := net.ErrClosed
	s.closeOnce.Do(func() {
		if err = s.close(); err != nil {
			err = fmt.Errorf("pgtest: close: %w", err)
		}
	})
	return err
}

func (s *Server) close() error {
	var errs []error
	if s.proc != nil {
		if err := s.proc.stop(s.stopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(s.dir); err != nil {
		errs = append(errs, fmt.Errorf("remove directory: %w", err))
	}
	return errors.Join(errs...)
}

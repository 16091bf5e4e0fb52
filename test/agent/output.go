// SPDX-License-Identifier: Apache-2.0

// One JSON line per step, with Azure's error status, code and message
// taken from the response that failed.

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// line is what the agent prints for a step.
type line struct {
	Step   string     `json:"step"`
	Args   []string   `json:"args"`
	OK     bool       `json:"ok"`
	Result any        `json:"result,omitempty"`
	Error  *stepError `json:"error,omitempty"`
}

// stepError is a failed step's error: the HTTP status and the Azure error
// code and message, or only a message when no response came back.
type stepError struct {
	Status  int    `json:"status,omitempty"`
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// writeLine prints the line for c's result or error.
func writeLine(w io.Writer, c call, res any, err error) error {
	l := line{Step: c.step.name, Args: c.args, OK: err == nil, Result: res}
	if l.Args == nil {
		l.Args = []string{}
	}
	if err != nil {
		l.Result, l.Error = nil, toStepError(err)
	}
	b, merr := json.Marshal(l)
	if merr != nil {
		return fmt.Errorf("encode step %s: %w", c.step.name, merr)
	}
	if _, werr := fmt.Fprintf(w, "%s\n", b); werr != nil {
		return fmt.Errorf("write: %w", werr)
	}
	return nil
}

// toStepError extracts status, code and message from an Entra error
// (azidentity) or an Azure service error (azcore.ResponseError).
func toStepError(err error) *stepError {
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) && authErr.RawResponse != nil {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		parseBody(authErr.RawResponse, &body)
		msg, _, _ := strings.Cut(body.Description, "\r\n")
		if msg == "" {
			msg = firstLine(err.Error())
		}
		return &stepError{Status: authErr.RawResponse.StatusCode, Code: body.Error, Message: msg}
	}
	var respErr *azcore.ResponseError
	if errors.As(err, &respErr) {
		var body struct {
			Error struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if respErr.RawResponse != nil {
			parseBody(respErr.RawResponse, &body)
		}
		msg := body.Error.Message
		if msg == "" {
			msg = http.StatusText(respErr.StatusCode)
		}
		return &stepError{Status: respErr.StatusCode, Code: respErr.ErrorCode, Message: msg}
	}
	return &stepError{Message: firstLine(err.Error())}
}

// parseBody decodes a JSON error body that the SDK has already read (it
// keeps a copy that runtime.Payload returns); failures leave v unchanged.
func parseBody(resp *http.Response, v any) {
	b, err := runtime.Payload(resp)
	if err != nil {
		return
	}
	_ = json.Unmarshal(b, v)
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(first)
}

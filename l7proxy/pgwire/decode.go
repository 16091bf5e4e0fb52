// SPDX-License-Identifier: Apache-2.0

// DecodeFrontend and DecodeBackend: any typed message into a new value.

package pgwire

import "fmt"

// Message is a decoded message: anything that encodes itself.
type Message interface {
	Encode(dst []byte) []byte
}

// AuthPhase says which 'p' message a client sends next: it depends on the
// authentication request the server made.
type AuthPhase int

// Authentication phases of DecodeFrontend.
const (
	PhasePassword    AuthPhase = iota // PasswordMessage (also outside authentication)
	PhaseSASLInitial                  // SASLInitialResponse
	PhaseSASL                         // SASLResponse
)

// DecodeFrontend decodes a message a client sent after the startup
// phase. phase picks the meaning of type 'p'.
func DecodeFrontend(typ byte, body []byte, phase AuthPhase) (Message, error) {
	var (
		m   Message
		err error
	)
	switch typ {
	case TypeQuery:
		v := &Query{}
		m, err = v, v.Decode(body)
	case TypeParse:
		v := &Parse{}
		m, err = v, v.Decode(body)
	case TypeBind:
		v := &Bind{}
		m, err = v, v.Decode(body)
	case TypeDescribe:
		v := &Describe{}
		m, err = v, v.Decode(body)
	case TypeExecute:
		v := &Execute{}
		m, err = v, v.Decode(body)
	case TypeClose:
		v := &Close{}
		m, err = v, v.Decode(body)
	case TypeSync:
		m, err = Sync{}, decodeEmpty("Sync", body)
	case TypeFlush:
		m, err = Flush{}, decodeEmpty("Flush", body)
	case TypeTerminate:
		m, err = Terminate{}, decodeEmpty("Terminate", body)
	case TypeFunctionCall:
		v := &FunctionCall{}
		m, err = v, v.Decode(body)
	case TypeCopyData:
		v := &CopyData{}
		m, err = v, v.Decode(body)
	case TypeCopyDone:
		m, err = CopyDone{}, decodeEmpty("CopyDone", body)
	case TypeCopyFail:
		v := &CopyFail{}
		m, err = v, v.Decode(body)
	case TypePassword:
		switch phase {
		case PhaseSASLInitial:
			v := &SASLInitialResponse{}
			m, err = v, v.Decode(body)
		case PhaseSASL:
			v := &SASLResponse{}
			m, err = v, v.Decode(body)
		default:
			v := &PasswordMessage{}
			m, err = v, v.Decode(body)
		}
	default:
		return nil, malformed("frontend message", fmt.Sprintf("unknown type %q", typ))
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// DecodeBackend decodes a message a server sent.
func DecodeBackend(typ byte, body []byte) (Message, error) {
	var (
		m   Message
		err error
	)
	switch typ {
	case TypeAuthentication:
		v := &Authentication{}
		m, err = v, v.Decode(body)
	case TypeParameterStatus:
		v := &ParameterStatus{}
		m, err = v, v.Decode(body)
	case TypeBackendKeyData:
		v := &BackendKeyData{}
		m, err = v, v.Decode(body)
	case TypeReadyForQuery:
		v := &ReadyForQuery{}
		m, err = v, v.Decode(body)
	case TypeNotificationResponse:
		v := &NotificationResponse{}
		m, err = v, v.Decode(body)
	case TypeNegotiateProtocolVersion:
		v := &NegotiateProtocolVersion{}
		m, err = v, v.Decode(body)
	case TypeErrorResponse, TypeNoticeResponse:
		v := &ErrorResponse{}
		m, err = v, v.Decode(typ, body)
	case TypeRowDescription:
		v := &RowDescription{}
		m, err = v, v.Decode(body)
	case TypeDataRow:
		v := &DataRow{}
		m, err = v, v.Decode(body)
	case TypeCommandComplete:
		v := &CommandComplete{}
		m, err = v, v.Decode(body)
	case TypeParameterDescription:
		v := &ParameterDescription{}
		m, err = v, v.Decode(body)
	case TypeFunctionCallResponse:
		v := &FunctionCallResponse{}
		m, err = v, v.Decode(body)
	case TypeParseComplete:
		m, err = ParseComplete{}, decodeEmpty("ParseComplete", body)
	case TypeBindComplete:
		m, err = BindComplete{}, decodeEmpty("BindComplete", body)
	case TypeCloseComplete:
		m, err = CloseComplete{}, decodeEmpty("CloseComplete", body)
	case TypeNoData:
		m, err = NoData{}, decodeEmpty("NoData", body)
	case TypeEmptyQueryResponse:
		m, err = EmptyQueryResponse{}, decodeEmpty("EmptyQueryResponse", body)
	case TypePortalSuspended:
		m, err = PortalSuspended{}, decodeEmpty("PortalSuspended", body)
	case TypeCopyData:
		v := &CopyData{}
		m, err = v, v.Decode(body)
	case TypeCopyDone:
		m, err = CopyDone{}, decodeEmpty("CopyDone", body)
	case TypeCopyInResponse, TypeCopyOutResponse, TypeCopyBothResponse:
		v := &CopyResponse{}
		m, err = v, v.Decode(typ, body)
	default:
		return nil, malformed("backend message", fmt.Sprintf("unknown type %q", typ))
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// AppendRaw appends a message of type typ with body as it is.
func AppendRaw(dst []byte, typ byte, body []byte) []byte {
	dst, off := begin(dst, typ)
	return finish(append(dst, body...), off)
}

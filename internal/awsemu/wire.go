package awsemu

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds a request body: a SAMLMetadataDocument may hold 10,000,000
// characters, and form encoding can triple that.
const maxBody = 32 << 20

const (
	iamNamespace   = "https://iam.amazonaws.com/doc/2010-05-08/"
	iamVersion     = "2010-05-08"
	smTargetPrefix = "SageMaker."
	jsonType       = "application/x-amz-json-1.1"
)

// apiError is an error as the service reports it: a code the SDK maps to a
// typed error (or to smithy.GenericAPIError), a message and the HTTP status.
type apiError struct {
	code   string
	msg    string
	status int
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

// iamStatus is the HTTP status of each IAM error code (model awsQueryError
// traits, reference rule 2); anything else is a 400.
var iamStatus = map[string]int{
	"NoSuchEntity":           http.StatusNotFound,
	"EntityAlreadyExists":    http.StatusConflict,
	"DeleteConflict":         http.StatusConflict,
	"LimitExceeded":          http.StatusConflict,
	"ConcurrentModification": http.StatusConflict,
	"ServiceFailure":         http.StatusInternalServerError,
	"ServiceUnavailable":     http.StatusServiceUnavailable,
}

// iamErr builds an IAM error with the status IAM gives its code.
func iamErr(code, format string, args ...any) error {
	status, ok := iamStatus[code]
	if !ok {
		status = http.StatusBadRequest
	}
	return &apiError{code: code, msg: fmt.Sprintf(format, args...), status: status}
}

// smErr builds a SageMaker error: every modeled and most unmodeled SageMaker
// errors are HTTP 400 (reference rules 5 and 6).
func smErr(code, format string, args ...any) error {
	status := http.StatusBadRequest
	switch code {
	case "InternalFailure":
		status = http.StatusInternalServerError
	case "ServiceUnavailable":
		status = http.StatusServiceUnavailable
	}
	return &apiError{code: code, msg: fmt.Sprintf(format, args...), status: status}
}

func asAPIError(err error, service string) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if service == serviceIAM {
		return &apiError{code: "ServiceFailure", msg: err.Error(), status: http.StatusInternalServerError}
	}
	return &apiError{code: "InternalFailure", msg: err.Error(), status: http.StatusInternalServerError}
}

const (
	serviceIAM       = "iam"
	serviceSageMaker = "sagemaker"
)

// ServeHTTP serves one API call of either protocol.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	defer func() {
		// A panic is a bug in the emulator; answer like AWS's own internal
		// failure and count it so tests (and the fuzz target) fail on it.
		if v := recover(); v != nil {
			e.stats.panicked()
			err := &apiError{code: "InternalFailure", msg: fmt.Sprint("emulator panic: ", v), status: 500}
			if target != "" {
				writeJSONError(w, e.nextRequestID(), err)
			} else {
				writeQueryError(w, e.nextRequestID(), err)
			}
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		tooBig := &apiError{code: "RequestEntityTooLarge", msg: "Request body too large", status: http.StatusRequestEntityTooLarge}
		if target != "" {
			writeJSONError(w, e.nextRequestID(), tooBig)
		} else {
			writeQueryError(w, e.nextRequestID(), tooBig)
		}
		return
	}
	if target != "" {
		e.serveJSON(w, r, target, body)
		return
	}
	e.serveQuery(w, r, body)
}

// serveQuery serves IAM's awsQuery protocol: the parameters are a form in
// the body (POST) or in the URL (GET, which IAM also accepts).
func (e *Emulator) serveQuery(w http.ResponseWriter, r *http.Request, body []byte) {
	var vals url.Values
	var err error
	switch r.Method {
	case http.MethodPost:
		vals, err = url.ParseQuery(string(body))
	case http.MethodGet:
		vals, err = url.ParseQuery(r.URL.RawQuery)
	default:
		writeQueryError(w, e.nextRequestID(), &apiError{code: "InvalidAction", msg: "Unsupported method " + r.Method, status: http.StatusBadRequest})
		return
	}
	if err != nil {
		writeQueryError(w, e.nextRequestID(), &apiError{code: "MalformedQueryString", msg: "Could not parse the request parameters", status: http.StatusBadRequest})
		return
	}
	action := vals.Get("Action")
	if action == "" {
		writeQueryError(w, e.nextRequestID(), &apiError{code: "MissingAction", msg: "Missing Action", status: http.StatusBadRequest})
		return
	}
	h, known := iamOps[action]
	op := action
	if !known {
		op = unknownOp
	}
	if v := vals.Get("Version"); known && v != "" && v != iamVersion {
		known, op = false, unknownOp
	}
	result, aerr, reqID := e.call(r, serviceIAM, op, func() (any, error) {
		if !known {
			return nil, iamErr("InvalidAction", "Could not find operation %s for version %s", action, vals.Get("Version"))
		}
		return h(e, form{vals})
	})
	if aerr != nil {
		writeQueryError(w, reqID, aerr)
		return
	}
	writeQueryResult(w, action, reqID, result)
}

// serveJSON serves SageMaker's awsJson1_1 protocol.
func (e *Emulator) serveJSON(w http.ResponseWriter, r *http.Request, target string, body []byte) {
	name, ok := strings.CutPrefix(target, smTargetPrefix)
	h, known := smOps[name]
	op := name
	if !ok || !known {
		op = unknownOp
	}
	if r.Method != http.MethodPost {
		known = false
	}
	result, aerr, reqID := e.call(r, serviceSageMaker, op, func() (any, error) {
		if !ok || !known {
			return nil, smErr("UnknownOperationException", "Unknown operation %s", target)
		}
		return h(e, body)
	})
	if aerr != nil {
		writeJSONError(w, reqID, aerr)
		return
	}
	if result == nil {
		result = struct{}{}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(result); err != nil {
		writeJSONError(w, reqID, &apiError{code: "InternalFailure", msg: err.Error(), status: 500})
		return
	}
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Write(buf.Bytes())
}

// unknownOp is the counter key of calls to operations the emulator does not
// implement, so random names cannot grow the counters without bound.
const unknownOp = "Unknown"

func (e *Emulator) nextRequestID() string {
	return fmt.Sprintf("00000000-0000-4000-8000-%012x", e.reqID.Add(1))
}

// writeQueryResult writes <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
// The SDK reads only the Result element and the request id.
func writeQueryResult(w http.ResponseWriter, op, reqID string, result any) {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<%sResponse xmlns="%s">`, op, iamNamespace)
	if result != nil {
		enc := xml.NewEncoder(&buf)
		if err := enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: op + "Result"}}); err != nil {
			writeQueryError(w, reqID, &apiError{code: "ServiceFailure", msg: err.Error(), status: 500})
			return
		}
	}
	fmt.Fprintf(&buf, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, reqID, op)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Write(buf.Bytes())
}

func writeQueryError(w http.ResponseWriter, reqID string, e *apiError) {
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, `<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>`, iamNamespace, typ)
	xml.EscapeText(&buf, []byte(e.code))
	buf.WriteString("</Code><Message>")
	xml.EscapeText(&buf, []byte(e.msg))
	fmt.Fprintf(&buf, "</Message></Error><RequestId>%s</RequestId></ErrorResponse>", reqID)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("x-amzn-RequestId", reqID)
	w.WriteHeader(e.status)
	w.Write(buf.Bytes())
}

func writeJSONError(w http.ResponseWriter, reqID string, e *apiError) {
	body, _ := json.Marshal(map[string]string{"__type": e.code, "message": e.msg})
	w.Header().Set("Content-Type", jsonType)
	w.Header().Set("x-amzn-RequestId", reqID)
	w.Header().Set("X-Amzn-ErrorType", e.code)
	w.WriteHeader(e.status)
	w.Write(body)
}

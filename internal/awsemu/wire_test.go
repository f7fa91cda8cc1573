package awsemu

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

type rawResponse struct {
	status int
	header http.Header
	body   string
}

func post(t *testing.T, h http.Handler, target, contentType, body string) rawResponse {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rawResponse{rec.Code, rec.Result().Header, string(b)}
}

// The exact wire shapes the SDK parses (reference rules 1, 2 and 5),
// checked below the SDK.
func TestWireShapes(t *testing.T) {
	e := New(Options{Domains: []Domain{{ID: testDomain}}})
	form := func(kv ...string) string {
		v := url.Values{"Version": {iamVersion}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	const formType = "application/x-www-form-urlencoded"
	tests := []struct {
		name, target, body string
		status             int
		want               []string
	}{
		{"IAM error", "", form("Action", "GetRole", "RoleName", "ghost"), 404, []string{
			`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name ghost cannot be found.</Message></Error><RequestId>`,
		}},
		{"IAM success", "", form("Action", "CreateRole", "RoleName", "r", "AssumeRolePolicyDocument", sageMakerTrust), 200, []string{
			`<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role><Path>/</Path><RoleName>r</RoleName>`,
			`<AssumeRolePolicyDocument>%7B%22Statement%22%3A%5B%7B%22Action%22%3A%22sts%3AAssumeRole%22`,
			`</CreateRoleResult><ResponseMetadata><RequestId>`,
		}},
		{"IAM list members", "", form("Action", "ListRoles"), 200, []string{`<Roles><member><Path>/</Path>`, `<IsTruncated>false</IsTruncated>`}},
		{"unknown action", "", form("Action", "CreateUser"), 400, []string{`<Code>InvalidAction</Code>`}},
		{"wrong version", "", "Action=GetRole&Version=2006-03-01&RoleName=r", 400, []string{`<Code>InvalidAction</Code>`}},
		{"missing action", "", "Version=2010-05-08", 400, []string{`<Code>MissingAction</Code>`}},
		{"missing required parameter", "", form("Action", "GetRole"), 400, []string{`<Code>ValidationError</Code>`, `Member must not be null`}},
		{"SageMaker error", "SageMaker.DescribeUserProfile", `{"DomainId":"d-testdomain1","UserProfileName":"ghost"}`, 400, []string{`"__type":"ResourceNotFound"`, `"message":`}},
		{"SageMaker success", "SageMaker.DescribeDomain", `{"DomainId":"d-testdomain1"}`, 200, []string{`"DomainId":"d-testdomain1"`, `"Status":"InService"`}},
		{"SageMaker bad JSON", "SageMaker.DescribeDomain", `{"DomainId":`, 400, []string{`"__type":"SerializationException"`}},
		{"SageMaker wrong type", "SageMaker.ListUserProfiles", `{"MaxResults":"ten"}`, 400, []string{`"__type":"SerializationException"`}},
		{"unknown target", "SageMaker.CreateDomain", `{}`, 400, []string{`"__type":"UnknownOperationException"`}},
		{"other service", "AmazonSSM.GetParameter", `{}`, 400, []string{`"__type":"UnknownOperationException"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ct := formType
			if tt.target != "" {
				ct = jsonType
			}
			r := post(t, e, tt.target, ct, tt.body)
			if r.status != tt.status {
				t.Errorf("status %d, want %d: %s", r.status, tt.status, r.body)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.body, w) {
					t.Errorf("body lacks %s:\n%s", w, r.body)
				}
			}
			if r.header.Get("x-amzn-RequestId") == "" {
				t.Errorf("no x-amzn-RequestId")
			}
			if tt.target != "" {
				if r.header.Get("Content-Type") != jsonType {
					t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
				}
				if r.status != 200 {
					var body map[string]string
					if err := json.Unmarshal([]byte(r.body), &body); err != nil || r.header.Get("X-Amzn-ErrorType") != body["__type"] {
						t.Errorf("X-Amzn-ErrorType %q, body %s", r.header.Get("X-Amzn-ErrorType"), r.body)
					}
				}
			}
		})
	}
	if e.Calls()[unknownOp] != 4 {
		t.Errorf("unknown operations counted %d times, want 4", e.Calls()[unknownOp])
	}
}

// IAM's query protocol also accepts GET, which makes the emulator easy to
// poke with curl in dev mode.
func TestQueryByGET(t *testing.T) {
	e := New(Options{})
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/?Action=ListRoles&Version=2010-05-08", nil))
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<ListRolesResponse") {
		t.Errorf("GET ListRoles: %d %s", rec.Code, rec.Body.String())
	}
}

// FuzzRequest feeds arbitrary bodies to every operation of both protocols:
// the emulator must answer each with a well-formed error or success, never
// panic and never report an internal failure.
func FuzzRequest(f *testing.F) {
	f.Add("CreateRole", "RoleName=r&AssumeRolePolicyDocument="+url.QueryEscape(sageMakerTrust)+"&Tags.member.1.Key=a&Tags.member.1.Value=b")
	f.Add("PutRolePolicy", "RoleName=r&PolicyName=p&PolicyDocument="+url.QueryEscape(readPolicy))
	f.Add("UntagRole", "RoleName=r&TagKeys.member.1=a&TagKeys.member.999999999999999999999=b")
	f.Add("ListRoles", "MaxItems=-1&Marker=%%%")
	f.Add("CreateSAMLProvider", "Name=x&SAMLMetadataDocument="+url.QueryEscape(samlMetadata("x")))
	f.Add("SageMaker.CreateUserProfile", `{"DomainId":"d-testdomain1","UserProfileName":"a","UserSettings":{"ExecutionRole":7},"Tags":[{"Key":"k"}]}`)
	f.Add("SageMaker.ListUserProfiles", `{"MaxResults":0,"NextToken":"djE6OQ","SortOrder":"Sideways"}`)
	f.Add("SageMaker.DeleteApp", `{"DomainId":"d-testdomain1","AppType":"JupyterLab","AppName":"x","SpaceName":"s"}`)
	f.Add("SageMaker.AddTags", `{"ResourceArn":null,"Tags":[null]}`)
	f.Add("SageMaker.ListApps", `[]`)
	f.Fuzz(func(t *testing.T, op, body string) {
		e := New(Options{Domains: []Domain{{ID: testDomain}}})
		var r rawResponse
		if name, ok := strings.CutPrefix(op, "SageMaker."); ok {
			r = post(t, e, smTargetPrefix+name, jsonType, body)
		} else {
			r = post(t, e, "", "application/x-www-form-urlencoded", "Action="+url.QueryEscape(op)+"&Version=2010-05-08&"+body)
		}
		if e.Panics() != 0 || r.status >= 500 {
			t.Fatalf("%s %q: status %d panics %d: %s", op, body, r.status, e.Panics(), r.body)
		}
	})
}

func TestLifecycle(t *testing.T) {
	e := New(Options{})
	u, err := e.Start()
	if err != nil || u == "" || e.URL() != u {
		t.Fatalf("Start = %q, %v; URL %q", u, err, e.URL())
	}
	if _, err := e.Start(); err == nil {
		t.Errorf("second Start while serving succeeded")
	}
	resp, err := http.Get(u + "/?Action=ListRoles&Version=2010-05-08")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := e.Close(); err != nil || e.URL() != "" {
		t.Errorf("Close = %v, URL after %q", err, e.URL())
	}

	// Serve on a caller's listener; state survives the restart.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Serve(ln) }()
	// The listener queues the connection until Serve accepts it, so this
	// answer also proves Serve is running before Close.
	resp, err = http.Get("http://" + ln.Addr().String() + "/?Action=ListRoles&Version=2010-05-08")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || e.URL() != "http://"+ln.Addr().String() {
		t.Errorf("after restart: HTTP %d, URL %q", resp.StatusCode, e.URL())
	}
	e.Close()
	if err := <-done; !errors.Is(err, http.ErrServerClosed) {
		t.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	if e.Calls()["ListRoles"] != 2 {
		t.Errorf("calls = %v", e.Calls())
	}
}

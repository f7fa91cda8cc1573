package awsemu

import (
	"fmt"
	"strings"
	"testing"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestCreateAndGetRole(t *testing.T) {
	v := newEnv(t, Options{AccountID: "210987654321"})
	out, err := v.iam.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 sdkaws.String("team-a-federation"),
		Path:                     sdkaws.String("/sagebridge/"),
		AssumeRolePolicyDocument: sdkaws.String(samlTrust("210987654321", "bridge")),
		Description:              sdkaws.String("team a"),
		MaxSessionDuration:       sdkaws.Int32(7200),
		Tags:                     []iamtypes.Tag{{Key: sdkaws.String("team"), Value: sdkaws.String("a")}},
	})
	mustOK(t, err)
	r := out.Role
	if got, want := sdkaws.ToString(r.Arn), "arn:aws:iam::210987654321:role/sagebridge/team-a-federation"; got != want {
		t.Errorf("Arn = %s, want %s (the ARN contains the path)", got, want)
	}
	if id := sdkaws.ToString(r.RoleId); !strings.HasPrefix(id, "AROA") || len(id) != 21 {
		t.Errorf("RoleId = %q", id)
	}
	if !r.CreateDate.Equal(epochStart) {
		t.Errorf("CreateDate = %v, want the emulator clock %v", r.CreateDate, epochStart)
	}

	got, err := v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("team-a-federation")})
	mustOK(t, err)
	g := got.Role
	if sdkaws.ToString(g.Path) != "/sagebridge/" || sdkaws.ToString(g.Description) != "team a" || sdkaws.ToInt32(g.MaxSessionDuration) != 7200 {
		t.Errorf("GetRole = %+v", g)
	}
	if len(g.Tags) != 1 || sdkaws.ToString(g.Tags[0].Key) != "team" {
		t.Errorf("Tags = %+v", g.Tags)
	}
	raw := sdkaws.ToString(g.AssumeRolePolicyDocument)
	if !strings.HasPrefix(raw, "%7B%22") {
		t.Errorf("trust policy not URL-encoded: %.40s", raw)
	}
	doc := decodeDoc(t, g.AssumeRolePolicyDocument)
	if !samePolicy(t, doc, samlTrust("210987654321", "bridge")) {
		t.Errorf("trust policy changed meaning:\n%s", doc)
	}
	if doc == samlTrust("210987654321", "bridge") {
		t.Errorf("trust policy returned byte-identical; IAM reformats it")
	}
	if !strings.Contains(doc, `"SAML:aud":"https://signin.aws.amazon.com/saml"`) {
		t.Errorf("one-element array not collapsed to a string: %s", doc)
	}
}

func TestCreateRoleDefaults(t *testing.T) {
	v := newEnv(t, Options{})
	r := v.createRole(t, "plain", sageMakerTrust)
	if sdkaws.ToString(r.Path) != "/" || sdkaws.ToInt32(r.MaxSessionDuration) != 3600 {
		t.Errorf("defaults: path %q, max session %d", sdkaws.ToString(r.Path), sdkaws.ToInt32(r.MaxSessionDuration))
	}
	if got := sdkaws.ToString(r.Arn); got != "arn:aws:iam::123456789012:role/plain" {
		t.Errorf("Arn = %s", got)
	}
}

func TestCreateRoleErrors(t *testing.T) {
	tags := func(n int, key func(int) string) []iamtypes.Tag {
		var out []iamtypes.Tag
		for i := range n {
			out = append(out, iamtypes.Tag{Key: sdkaws.String(key(i)), Value: sdkaws.String("v")})
		}
		return out
	}
	plainKey := func(i int) string { return fmt.Sprint("k", i) }
	bigTrust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"` + strings.Repeat("1", 2000) + `"}}}]}`
	tests := []struct {
		name string
		in   iam.CreateRoleInput
		code string
		// typed checks the SDK mapped the code to its typed error.
		typed func(error) bool
	}{
		{name: "duplicate", in: iam.CreateRoleInput{RoleName: sdkaws.String("existing")}, code: "EntityAlreadyExists", typed: isType[*iamtypes.EntityAlreadyExistsException]},
		{name: "duplicate in another case", in: iam.CreateRoleInput{RoleName: sdkaws.String("EXISTING")}, code: "EntityAlreadyExists"},
		{name: "name with a space", in: iam.CreateRoleInput{RoleName: sdkaws.String("a b")}, code: "ValidationError"},
		{name: "name too long", in: iam.CreateRoleInput{RoleName: sdkaws.String(strings.Repeat("r", 65))}, code: "ValidationError"},
		{name: "path without trailing slash", in: iam.CreateRoleInput{RoleName: sdkaws.String("p"), Path: sdkaws.String("/a")}, code: "ValidationError"},
		{name: "trust not JSON", in: iam.CreateRoleInput{RoleName: sdkaws.String("j"), AssumeRolePolicyDocument: sdkaws.String("{")}, code: "MalformedPolicyDocument", typed: isType[*iamtypes.MalformedPolicyDocumentException]},
		{name: "trust names a resource", in: iam.CreateRoleInput{RoleName: sdkaws.String("res"), AssumeRolePolicyDocument: sdkaws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}`)}, code: "MalformedPolicyDocument"},
		{name: "trust without principal", in: iam.CreateRoleInput{RoleName: sdkaws.String("np"), AssumeRolePolicyDocument: sdkaws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`)}, code: "MalformedPolicyDocument"},
		{name: "trust with a non-STS action", in: iam.CreateRoleInput{RoleName: sdkaws.String("s3"), AssumeRolePolicyDocument: sdkaws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"s3:GetObject"}}`)}, code: "MalformedPolicyDocument"},
		{name: "trust with a bad effect", in: iam.CreateRoleInput{RoleName: sdkaws.String("fx"), AssumeRolePolicyDocument: sdkaws.String(`{"Statement":{"Effect":"Maybe","Principal":"*","Action":"sts:AssumeRole"}}`)}, code: "MalformedPolicyDocument"},
		{name: "trust with a bad version", in: iam.CreateRoleInput{RoleName: sdkaws.String("ver"), AssumeRolePolicyDocument: sdkaws.String(`{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`)}, code: "MalformedPolicyDocument"},
		{name: "trust with characters IAM refuses", in: iam.CreateRoleInput{RoleName: sdkaws.String("uni"), AssumeRolePolicyDocument: sdkaws.String(`{"Statement":{"Sid":"✓","Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`)}, code: "ValidationError"},
		{name: "trust over the size quota", in: iam.CreateRoleInput{RoleName: sdkaws.String("big"), AssumeRolePolicyDocument: sdkaws.String(bigTrust)}, code: "LimitExceeded", typed: isType[*iamtypes.LimitExceededException]},
		{name: "session too short", in: iam.CreateRoleInput{RoleName: sdkaws.String("short"), MaxSessionDuration: sdkaws.Int32(900)}, code: "ValidationError"},
		{name: "51 tags", in: iam.CreateRoleInput{RoleName: sdkaws.String("t51"), Tags: tags(51, plainKey)}, code: "ValidationError"},
		{name: "reserved tag prefix", in: iam.CreateRoleInput{RoleName: sdkaws.String("aws"), Tags: tags(1, func(int) string { return "aws:team" })}, code: "InvalidInput", typed: isType[*iamtypes.InvalidInputException]},
		{name: "tag keys equal but for case", in: iam.CreateRoleInput{RoleName: sdkaws.String("dup"), Tags: []iamtypes.Tag{{Key: sdkaws.String("Team"), Value: sdkaws.String("a")}, {Key: sdkaws.String("team"), Value: sdkaws.String("b")}}}, code: "InvalidInput"},
		{name: "tag key too long", in: iam.CreateRoleInput{RoleName: sdkaws.String("tk"), Tags: tags(1, func(int) string { return strings.Repeat("k", 129) })}, code: "ValidationError"},
		{name: "tag value too long", in: iam.CreateRoleInput{RoleName: sdkaws.String("tv"), Tags: []iamtypes.Tag{{Key: sdkaws.String("k"), Value: sdkaws.String(strings.Repeat("v", 257))}}}, code: "ValidationError"},
		{name: "tag key with a comma", in: iam.CreateRoleInput{RoleName: sdkaws.String("tc"), Tags: tags(1, func(int) string { return "a,b" })}, code: "ValidationError"},
		{name: "bad permissions boundary", in: iam.CreateRoleInput{RoleName: sdkaws.String("pb"), PermissionsBoundary: sdkaws.String("arn:aws:s3:::not-a-policy")}, code: "InvalidInput"},
	}
	v := newEnv(t, Options{})
	v.createRole(t, "existing", sageMakerTrust)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.AssumeRolePolicyDocument == nil {
				in.AssumeRolePolicyDocument = sdkaws.String(sageMakerTrust)
			}
			_, err := v.iam.CreateRole(ctx, &in)
			wantCode(t, err, tt.code)
			if tt.typed != nil && !tt.typed(err) {
				t.Errorf("SDK did not map %s to its typed error: %T", tt.code, err)
			}
			if st := httpStatus(err); st != iamStatusOf(tt.code) {
				t.Errorf("HTTP status %d, want %d", st, iamStatusOf(tt.code))
			}
		})
	}
	if n := len(v.emu.Snapshot().Roles); n != 1 {
		t.Errorf("%d roles after failed creates, want 1", n)
	}
}

func iamStatusOf(code string) int {
	if s, ok := iamStatus[code]; ok {
		return s
	}
	return 400
}

func TestRoleQuota(t *testing.T) {
	v := newEnv(t, Options{Quotas: Quotas{Roles: 2}})
	v.createRole(t, "r1", sageMakerTrust)
	v.createRole(t, "r2", sageMakerTrust)
	_, err := v.iam.CreateRole(ctx, &iam.CreateRoleInput{RoleName: sdkaws.String("r3"), AssumeRolePolicyDocument: sdkaws.String(sageMakerTrust)})
	wantCode(t, err, "LimitExceeded")
}

func TestRoleLookupIgnoresCase(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "Team-A", sageMakerTrust)
	out, err := v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("team-a")})
	mustOK(t, err)
	if got := sdkaws.ToString(out.Role.RoleName); got != "Team-A" {
		t.Errorf("RoleName = %q, want the case it was created with", got)
	}
	_, err = v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("team-b")})
	wantCode(t, err, "NoSuchEntity")
	if !isType[*iamtypes.NoSuchEntityException](err) || httpStatus(err) != 404 {
		t.Errorf("NoSuchEntity: %T, HTTP %d", err, httpStatus(err))
	}
}

func TestUpdateRole(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	tests := []struct {
		name string
		in   iam.UpdateRoleInput
		code string
	}{
		{"max session", iam.UpdateRoleInput{RoleName: sdkaws.String("r"), MaxSessionDuration: sdkaws.Int32(43200)}, ""},
		{"description", iam.UpdateRoleInput{RoleName: sdkaws.String("r"), Description: sdkaws.String("d")}, ""},
		{"session too long", iam.UpdateRoleInput{RoleName: sdkaws.String("r"), MaxSessionDuration: sdkaws.Int32(43201)}, "ValidationError"},
		{"unknown role", iam.UpdateRoleInput{RoleName: sdkaws.String("nope")}, "NoSuchEntity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.iam.UpdateRole(ctx, &tt.in)
			wantCode(t, err, tt.code)
		})
	}
	r, _ := v.emu.Role("r")
	if r.MaxSessionDuration != 43200 || r.Description != "d" {
		t.Errorf("after updates: %+v", r)
	}
}

func TestUpdateAssumeRolePolicy(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	newTrust := samlTrust(DefaultAccountID, "idp")
	_, err := v.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: sdkaws.String("r"), PolicyDocument: sdkaws.String(newTrust)})
	mustOK(t, err)
	out, err := v.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: sdkaws.String("r")})
	mustOK(t, err)
	if !samePolicy(t, decodeDoc(t, out.Role.AssumeRolePolicyDocument), newTrust) {
		t.Errorf("trust not replaced")
	}
	_, err = v.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: sdkaws.String("r"), PolicyDocument: sdkaws.String(`{"Statement":[]}`)})
	wantCode(t, err, "MalformedPolicyDocument")
	_, err = v.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: sdkaws.String("nope"), PolicyDocument: sdkaws.String(newTrust)})
	wantCode(t, err, "NoSuchEntity")
}

func TestRoleTags(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust, iamtypes.Tag{Key: sdkaws.String("Team"), Value: sdkaws.String("a")})
	tag := func(k, val string) iamtypes.Tag {
		return iamtypes.Tag{Key: sdkaws.String(k), Value: sdkaws.String(val)}
	}

	// TagRole overwrites, matching keys regardless of case; the stored key
	// keeps its case.
	_, err := v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: []iamtypes.Tag{tag("team", "b"), tag("owner", "sagebridge")}})
	mustOK(t, err)
	r, _ := v.emu.Role("r")
	if want := []Tag{{"Team", "b"}, {"owner", "sagebridge"}}; fmt.Sprint(r.Tags) != fmt.Sprint(want) {
		t.Errorf("tags = %v, want %v", r.Tags, want)
	}
	_, err = v.iam.UntagRole(ctx, &iam.UntagRoleInput{RoleName: sdkaws.String("r"), TagKeys: []string{"TEAM", "absent"}})
	mustOK(t, err)
	r, _ = v.emu.Role("r")
	if len(r.Tags) != 1 || r.Tags[0].Key != "owner" {
		t.Errorf("after untag: %v", r.Tags)
	}

	// 50 tags in all, then one more is a quota error, not a validation one.
	var many []iamtypes.Tag
	for i := range 49 {
		many = append(many, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: many})
	mustOK(t, err)
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: []iamtypes.Tag{tag("one-more", "v")}})
	wantCode(t, err, "LimitExceeded")
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("r"), Tags: []iamtypes.Tag{tag("aws:x", "v")}})
	wantCode(t, err, "InvalidInput")
	_, err = v.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: sdkaws.String("nope"), Tags: []iamtypes.Tag{tag("a", "v")}})
	wantCode(t, err, "NoSuchEntity")

	// ListRoleTags pages with Marker/MaxItems.
	var keys []string
	pages := 0
	p := iam.NewListRoleTagsPaginator(v.iam, &iam.ListRoleTagsInput{RoleName: sdkaws.String("r")}, func(o *iam.ListRoleTagsPaginatorOptions) { o.Limit = 7 })
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		mustOK(t, err)
		pages++
		for _, tg := range out.Tags {
			keys = append(keys, sdkaws.ToString(tg.Key))
		}
	}
	if len(keys) != 50 || pages != 8 {
		t.Errorf("paged %d tags in %d pages, want 50 in 8", len(keys), pages)
	}
}

func TestDeleteRole(t *testing.T) {
	v := newEnv(t, Options{})
	v.createRole(t, "r", sageMakerTrust)
	name := sdkaws.String("r")
	mustOK(t, func() error {
		_, err := v.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: sdkaws.String("p"), PolicyDocument: sdkaws.String(readPolicy)})
		return err
	}())
	_, err := v.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: sdkaws.String("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")})
	mustOK(t, err)

	_, err = v.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	wantCode(t, err, "DeleteConflict")
	if !isType[*iamtypes.DeleteConflictException](err) || httpStatus(err) != 409 {
		t.Errorf("DeleteConflict: %T HTTP %d", err, httpStatus(err))
	}
	_, err = v.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: sdkaws.String("p")})
	mustOK(t, err)
	_, err = v.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	wantCode(t, err, "DeleteConflict")
	_, err = v.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: sdkaws.String("arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")})
	mustOK(t, err)
	_, err = v.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	mustOK(t, err)
	_, err = v.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	wantCode(t, err, "NoSuchEntity")
	// The name is free again, in any case.
	v.createRole(t, "R", sageMakerTrust)
}

func TestListRoles(t *testing.T) {
	v := newEnv(t, Options{})
	for i := range 25 {
		path := "/"
		if i%2 == 0 {
			path = "/sagebridge/"
		}
		_, err := v.iam.CreateRole(ctx, &iam.CreateRoleInput{
			RoleName: sdkaws.String(fmt.Sprintf("role-%02d", i)), Path: sdkaws.String(path),
			AssumeRolePolicyDocument: sdkaws.String(sageMakerTrust), PermissionsBoundary: sdkaws.String("arn:aws:iam::aws:policy/PowerUserAccess"),
			Tags: []iamtypes.Tag{{Key: sdkaws.String("team"), Value: sdkaws.String("a")}},
		})
		mustOK(t, err)
	}
	list := func(in *iam.ListRolesInput, limit int32) (names []string, pages int) {
		p := iam.NewListRolesPaginator(v.iam, in, func(o *iam.ListRolesPaginatorOptions) { o.Limit = limit })
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			mustOK(t, err)
			pages++
			for _, r := range out.Roles {
				names = append(names, sdkaws.ToString(r.RoleName))
				if r.Tags != nil || r.PermissionsBoundary != nil || r.RoleLastUsed != nil {
					t.Errorf("ListRoles returned more than a summary: %+v", r)
				}
				if r.AssumeRolePolicyDocument == nil || r.Arn == nil || r.CreateDate == nil {
					t.Errorf("ListRoles summary lacks fields: %+v", r)
				}
			}
		}
		return names, pages
	}
	if names, pages := list(&iam.ListRolesInput{}, 10); len(names) != 25 || pages != 3 || names[0] != "role-00" || names[24] != "role-24" {
		t.Errorf("all roles: %d in %d pages: %v", len(names), pages, names)
	}
	if names, _ := list(&iam.ListRolesInput{PathPrefix: sdkaws.String("/sagebridge/")}, 0); len(names) != 13 {
		t.Errorf("PathPrefix: %d roles, want 13", len(names))
	}
	out, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{})
	mustOK(t, err)
	if len(out.Roles) != 25 || out.IsTruncated {
		t.Errorf("default MaxItems 100: %d roles, truncated %v", len(out.Roles), out.IsTruncated)
	}
	_, err = v.iam.ListRoles(ctx, &iam.ListRolesInput{Marker: sdkaws.String("garbage!")})
	wantCode(t, err, "ValidationError")
	_, err = v.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: sdkaws.Int32(1001)})
	wantCode(t, err, "ValidationError")
}

// A marker is the last key seen, so a deletion between pages neither skips
// nor repeats a role.
func TestListRolesMarkerSurvivesDeletes(t *testing.T) {
	v := newEnv(t, Options{})
	for i := range 6 {
		v.createRole(t, fmt.Sprintf("r%d", i), sageMakerTrust)
	}
	first, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: sdkaws.Int32(3)})
	mustOK(t, err)
	_, err = v.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: sdkaws.String("r1")})
	mustOK(t, err)
	second, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: sdkaws.Int32(3), Marker: first.Marker})
	mustOK(t, err)
	var got []string
	for _, r := range append(first.Roles, second.Roles...) {
		got = append(got, sdkaws.ToString(r.RoleName))
	}
	if fmt.Sprint(got) != "[r0 r1 r2 r3 r4 r5]" || second.IsTruncated {
		t.Errorf("pages = %v (truncated %v)", got, second.IsTruncated)
	}
}

// IAM may return fewer than MaxItems and still be truncated; a client that
// stops on a short page loses roles (reference rule 15).
func TestIAMPageCap(t *testing.T) {
	v := newEnv(t, Options{IAMPageCap: 3})
	for i := range 8 {
		v.createRole(t, fmt.Sprintf("r%d", i), sageMakerTrust)
	}
	out, err := v.iam.ListRoles(ctx, &iam.ListRolesInput{MaxItems: sdkaws.Int32(10)})
	mustOK(t, err)
	if len(out.Roles) != 3 || !out.IsTruncated || out.Marker == nil {
		t.Fatalf("capped page: %d roles, truncated %v", len(out.Roles), out.IsTruncated)
	}
	n := 0
	p := iam.NewListRolesPaginator(v.iam, &iam.ListRolesInput{}, func(o *iam.ListRolesPaginatorOptions) { o.Limit = 10 })
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		mustOK(t, err)
		n += len(page.Roles)
	}
	if n != 8 {
		t.Errorf("paginator saw %d roles, want 8", n)
	}
}

func TestGetAccountSummary(t *testing.T) {
	v := newEnv(t, Options{Quotas: Quotas{AssumeRolePolicySize: 4096}})
	v.createRole(t, "r", sageMakerTrust)
	out, err := v.iam.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{})
	mustOK(t, err)
	m := out.SummaryMap
	if m["AssumeRolePolicySizeQuota"] != 4096 || m["RolePolicySizeQuota"] != 10240 || m["AttachedPoliciesPerRoleQuota"] != 10 || m["Roles"] != 1 {
		t.Errorf("SummaryMap = %v", m)
	}
}

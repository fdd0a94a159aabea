package exposures

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestBaseName(t *testing.T) {
	tests := []struct {
		workbook string
		want     string
	}{
		{"Sales Overview", "sales_overview"},
		{"Crème brûlée — Q3", "creme_brulee_q3"},
		{"Straße & Fußgänger", "strasse_fussganger"},
		{"Æble Øl Łódź", "aeble_ol_lodz"},
		{"Đà Nẵng Þing", "da_nang_thing"},
		{"2024 revenue", "workbook_2024_revenue"},
		{"  --weird!!name__ ", "weird_name"},
		{"📊📈", "workbook_9a3c1b2e"},
		{"Продажи", "workbook_9a3c1b2e"},
		{"売上 Sales", "sales"},
		{"ﬁnance ²", "finance_2"},
		{strings.Repeat("long ", 40), strings.TrimRight(strings.Repeat("long_", 13), "_")},
	}
	for _, tt := range tests {
		t.Run(tt.workbook, func(t *testing.T) {
			got := baseName(tt.workbook, "9A3C1B2E-0000-4000-8000-000000000001")
			if got != tt.want {
				t.Errorf("baseName(%q) = %q, want %q", tt.workbook, got, tt.want)
			}
			if !validName.MatchString(got) {
				t.Errorf("baseName(%q) = %q, which is not a valid exposure name", tt.workbook, got)
			}
		})
	}
}

func TestAssignNamesClashes(t *testing.T) {
	reqs := []nameRequest{
		{WorkbookLUID: "bbbbbbbb-1111-4000-8000-000000000000", WorkbookName: "Sales"},
		{WorkbookLUID: "aaaaaaaa-2222-4000-8000-000000000000", WorkbookName: "sales"},
		{WorkbookLUID: "cccccccc-3333-4000-8000-000000000000", WorkbookName: "Finance"},
		{WorkbookLUID: "dddddddd-4444-4000-8000-000000000000", WorkbookName: "Orders"},
		{WorkbookLUID: "eeeeeeee-5555-4000-8000-000000000000", WorkbookName: "Anything", FixedName: "finance", FixedNameLine: 7},
		// Same first eight digits: the suffix grows until they differ.
		{WorkbookLUID: "12345678-aaaa-4000-8000-000000000000", WorkbookName: "Ops"},
		{WorkbookLUID: "12345678-bbbb-4000-8000-000000000000", WorkbookName: "OPS"},
	}
	want := map[string]string{
		"bbbbbbbb-1111-4000-8000-000000000000": "sales_bbbbbbbb",
		"aaaaaaaa-2222-4000-8000-000000000000": "sales_aaaaaaaa",
		"cccccccc-3333-4000-8000-000000000000": "finance_cccccccc",
		"dddddddd-4444-4000-8000-000000000000": "orders_dddddddd",
		"eeeeeeee-5555-4000-8000-000000000000": "finance",
		"12345678-aaaa-4000-8000-000000000000": "ops_12345678aaaa",
		"12345678-bbbb-4000-8000-000000000000": "ops_12345678bbbb",
	}
	reserved := map[string]bool{"orders": true}

	got, err := assignNames(reqs, reserved)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("assignNames (-want +got):\n%s", diff)
	}

	// The same requests in reverse order give the same names.
	reversed := make([]nameRequest, len(reqs))
	for i, r := range reqs {
		reversed[len(reqs)-1-i] = r
	}
	again, err := assignNames(reversed, reserved)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("assignNames depends on input order (-first +reversed):\n%s", diff)
	}
}

func TestAssignNamesFixedClash(t *testing.T) {
	tests := []struct {
		name     string
		reqs     []nameRequest
		reserved map[string]bool
		wantErr  string
	}{
		{
			name: "two curated names",
			reqs: []nameRequest{
				{WorkbookLUID: "a", WorkbookName: "A", FixedName: "same", FixedNameLine: 3},
				{WorkbookLUID: "b", WorkbookName: "B", FixedName: "same", FixedNameLine: 9},
			},
			wantErr: `curation line 9: name "same" for workbook b is also set for workbook a`,
		},
		{
			name:     "curated name of a hand-written exposure",
			reqs:     []nameRequest{{WorkbookLUID: "a", WorkbookName: "A", FixedName: "orders", FixedNameLine: 4}},
			reserved: map[string]bool{"orders": true},
			wantErr:  `curation line 4: name "orders" for workbook a is already used by a hand-written exposure`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := assignNames(tt.reqs, tt.reserved)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("assignNames error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestNeutralizeJinja(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"{{ ref('x') }}", "{ { ref('x') }}"},
		{"{% if a %}b{% endif %}", "{ % if a %}b{ % endif %}"},
		{"{# note #}", "{ # note #}"},
		{"{{{ triple", "{ { { triple"},
		{"{-%x", "{-%x"},
		{"json {\"a\": 1}", "json {\"a\": 1}"},
		{"ends with {", "ends with {"},
	}
	for _, tt := range tests {
		got := neutralizeJinja(tt.in)
		if got != tt.want {
			t.Errorf("neutralizeJinja(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, opener := range []string{"{{", "{%", "{#"} {
			if strings.Contains(got, opener) {
				t.Errorf("neutralizeJinja(%q) = %q still contains %q", tt.in, got, opener)
			}
		}
	}
}

func TestMetaUnderConfig(t *testing.T) {
	tests := map[string]bool{
		"1.0.8": false, "1.4.8": false, "1.8.6": false, "1.9.4": false,
		"1.10.0": true, "1.10.0b2": true, "1.11.2": true, "1.12.0": true, "2.0.0-preview.45": true,
		"": false, "unknown": false,
	}
	for version, want := range tests {
		if got := metaUnderConfig(version); got != want {
			t.Errorf("metaUnderConfig(%q) = %v, want %v", version, got, want)
		}
	}
}

func TestParseDepRef(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr string
	}{
		{in: "ref('orders')", want: "ref('orders')"},
		{in: `ref("orders")`, want: "ref('orders')"},
		{in: "{{ ref('pkg', 'orders') }}", want: "ref('pkg', 'orders')"},
		{in: "ref('orders', v=2)", want: "ref('orders', v=2)"},
		{in: "ref('orders', version='beta')", want: "ref('orders', v='beta')"},
		{in: "source('shop', 'raw payments')", want: "source('shop', 'raw payments')"},
		{in: "ref(orders)", wantErr: "names must be quoted"},
		{in: "source('shop')", wantErr: "source() takes the source name and the table name"},
		{in: "model('x')", wantErr: "write ref('model')"},
		{in: "ref('a', 'b', 'c')", wantErr: "ref() takes a model name"},
		{in: "ref('open)", wantErr: "unclosed quote"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseDepRef(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDepRef error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tt.want {
				t.Errorf("parseDepRef(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

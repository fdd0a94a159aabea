package tableausim

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "new\nline\ttab\rcr", "\x00\x1f control",
		"<tag> & amp", "accents: Zoë Ångström café", "emoji 📊", "bad utf8 \xff\xfe",
		"line sep \u2028 para sep \u2029", "[ANALYTICS].[MARTS].[ORDERS]",
	} {
		want, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSONString(nil, s); string(got) != string(want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

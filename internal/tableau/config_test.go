package tableau

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-envconfig"
)

func TestParseServerURL(t *testing.T) {
	tests := []struct {
		raw       string
		server    string
		site      string
		siteInURL bool
	}{
		{"10az.online.tableau.com", "https://10az.online.tableau.com", "", false},
		{"  10az.online.tableau.com/  ", "https://10az.online.tableau.com", "", false},
		{"https://10az.online.tableau.com/#/site/acme/explore", "https://10az.online.tableau.com", "acme", true},
		{"10az.online.tableau.com/#/site/acme/home", "https://10az.online.tableau.com", "acme", true},
		{"https://10az.online.tableau.com/#/site/acme", "https://10az.online.tableau.com", "acme", true},
		{"https://bi.example.com/tableau", "https://bi.example.com/tableau", "", false},
		{"https://bi.example.com/tableau/", "https://bi.example.com/tableau", "", false},
		{"https://bi.example.com/tableau/#/site/finance/views/Sales/Overview", "https://bi.example.com/tableau", "finance", true},
		{"https://bi.example.com/#/home", "https://bi.example.com", "", false},
		{"https://10az.online.tableau.com/t/acme/views/Sales/Overview?:embed=y", "https://10az.online.tableau.com", "acme", true},
		{"https://bi.example.com/api/3.24/", "https://bi.example.com", "", false},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080", "", false},
		{"https://bi.example.com:8443/#/site/My%20Site/explore", "https://bi.example.com:8443", "My Site", true},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			server, site, siteInURL, err := ParseServerURL(tt.raw)
			if err != nil {
				t.Fatalf("ParseServerURL(%q): %v", tt.raw, err)
			}
			got := []any{server, site, siteInURL}
			want := []any{tt.server, tt.site, tt.siteInURL}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ParseServerURL(%q) (-want +got):\n%s", tt.raw, diff)
			}
		})
	}
}

func TestParseServerURLInvalid(t *testing.T) {
	tests := []struct {
		raw     string
		mention string
	}{
		{"", "TABLEAU_SERVER_URL is empty"},
		{"ftp://bi.example.com", `scheme "ftp"`},
		{"https://", "no host name"},
		{"https://user:pw@bi.example.com", "user name or password"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, _, _, err := ParseServerURL(tt.raw)
			if err == nil {
				t.Fatalf("ParseServerURL(%q) = nil error, want one mentioning %q", tt.raw, tt.mention)
			}
			if !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("ParseServerURL(%q) error %q does not mention %q", tt.raw, err, tt.mention)
			}
		})
	}
}

func TestLoadConfigResolvesSite(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{
			name: "site from browser URL",
			env: map[string]string{
				"TABLEAU_SERVER_URL":   "https://10az.online.tableau.com/#/site/acme/explore",
				"TABLEAU_TOKEN_NAME":   "autoexposures",
				"TABLEAU_TOKEN_SECRET": "s3cr3t",
			},
			want: Config{
				ServerURL: "https://10az.online.tableau.com", Site: "acme", TokenName: "autoexposures", TokenSecret: "s3cr3t",
				RequestTimeout: 60 * time.Second, Concurrency: 4, MaxAttempts: 5, MaxRetryWait: 60 * time.Second, NodeLimit: 20000,
			},
		},
		{
			name: "site from TABLEAU_SITE with host only",
			env: map[string]string{
				"TABLEAU_SERVER_URL":      "10az.online.tableau.com",
				"TABLEAU_SITE":            "acme",
				"TABLEAU_TOKEN_NAME":      "autoexposures",
				"TABLEAU_TOKEN_SECRET":    "s3cr3t",
				"TABLEAU_API_VERSION":     "3.24",
				"TABLEAU_REQUEST_TIMEOUT": "15s",
				"TABLEAU_CONCURRENCY":     "8",
			},
			want: Config{
				ServerURL: "https://10az.online.tableau.com", Site: "acme", TokenName: "autoexposures", TokenSecret: "s3cr3t",
				APIVersion: "3.24", RequestTimeout: 15 * time.Second, Concurrency: 8, MaxAttempts: 5, MaxRetryWait: 60 * time.Second, NodeLimit: 20000,
			},
		},
		{
			name: "URL and TABLEAU_SITE agree in another case",
			env: map[string]string{
				"TABLEAU_SERVER_URL":   "https://bi.example.com/tableau/#/site/Acme/explore",
				"TABLEAU_SITE":         "acme",
				"TABLEAU_TOKEN_NAME":   "autoexposures",
				"TABLEAU_TOKEN_SECRET": "s3cr3t",
			},
			want: Config{
				ServerURL: "https://bi.example.com/tableau", Site: "Acme", TokenName: "autoexposures", TokenSecret: "s3cr3t",
				RequestTimeout: 60 * time.Second, Concurrency: 4, MaxAttempts: 5, MaxRetryWait: 60 * time.Second, NodeLimit: 20000,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfigFrom(context.Background(), envconfig.MapLookuper(tt.env))
			if err != nil {
				t.Fatalf("LoadConfigFrom: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("LoadConfigFrom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadConfigErrors(t *testing.T) {
	base := func(extra map[string]string) map[string]string {
		env := map[string]string{
			"TABLEAU_SERVER_URL":   "10az.online.tableau.com",
			"TABLEAU_TOKEN_NAME":   "autoexposures",
			"TABLEAU_TOKEN_SECRET": "s3cr3t-value",
		}
		for k, v := range extra {
			if v == "" {
				delete(env, k)
				continue
			}
			env[k] = v
		}
		return env
	}
	tests := []struct {
		name     string
		env      map[string]string
		mentions []string
	}{
		{"site disagrees", base(map[string]string{"TABLEAU_SERVER_URL": "https://10az.online.tableau.com/#/site/acme/explore", "TABLEAU_SITE": "globex"}), []string{`"acme"`, `"globex"`, "TABLEAU_SITE"}},
		{"missing server", base(map[string]string{"TABLEAU_SERVER_URL": ""}), []string{"TABLEAU_SERVER_URL"}},
		{"missing token name", base(map[string]string{"TABLEAU_TOKEN_NAME": ""}), []string{"TABLEAU_TOKEN_NAME"}},
		{"missing secret", base(map[string]string{"TABLEAU_TOKEN_SECRET": ""}), []string{"TABLEAU_TOKEN_SECRET"}},
		{"bad version", base(map[string]string{"TABLEAU_API_VERSION": "latest"}), []string{"TABLEAU_API_VERSION", `"latest"`}},
		{"negative concurrency", base(map[string]string{"TABLEAU_CONCURRENCY": "-1"}), []string{"TABLEAU_CONCURRENCY"}},
		{"bad timeout", base(map[string]string{"TABLEAU_REQUEST_TIMEOUT": "soon"}), []string{"TABLEAU_REQUEST_TIMEOUT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfigFrom(context.Background(), envconfig.MapLookuper(tt.env))
			if err == nil {
				t.Fatal("LoadConfigFrom = nil error, want one")
			}
			for _, m := range tt.mentions {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("error %q does not mention %s", err, m)
				}
			}
			if strings.Contains(err.Error(), "s3cr3t-value") {
				t.Errorf("error %q contains the token secret", err)
			}
		})
	}
}

func TestConfigFormattingHidesSecret(t *testing.T) {
	cfg := Config{ServerURL: "https://bi.example.com", TokenName: "n", TokenSecret: "s3cr3t-value"}
	for name, text := range map[string]string{
		"String":   cfg.String(),
		"GoString": cfg.GoString(),
		"LogValue": cfg.LogValue().String(),
	} {
		if strings.Contains(text, "s3cr3t-value") {
			t.Errorf("%s = %q, contains the token secret", name, text)
		}
	}
}

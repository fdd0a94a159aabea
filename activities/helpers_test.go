package activities_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const (
	tokenName     = "activities-test-token"
	tokenSecret   = "activities-test-secret-must-not-leak"
	revokedSecret = "revoked-secret-must-not-leak"
	siteFile      = "testdata/jaffle_site.json"
	manifestFile  = "../internal/demo/assets/manifest.json"
	runResults    = "../internal/demo/assets/run_results.json"
)

// fixture is a simulator, a store and the activities wired to them.
type fixture struct {
	sim      *tableausim.Server
	client   *tableau.Client
	store    *store.Dir
	acts     *activities.Activities
	settings config.Settings
}

func newFixture(t *testing.T, site string, token, secret string) *fixture {
	t.Helper()
	s, err := tableausim.LoadSite(site)
	if err != nil {
		t.Fatal(err)
	}
	sim := tableausim.New(s)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	// Two tries and short waits keep the fault tests quick; the activity's
	// retry policy does the rest of the retrying.
	tc, err := tableau.New(tableau.Config{
		ServerURL: sim.URL(), Site: s.Site, TokenName: token, TokenSecret: secret,
		MaxAttempts: 2, MaxRetryWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	settings := config.Settings{
		StateDir:           st.Root(),
		ExposuresPath:      filepath.Join(out, "models", "tableau_exposures.yml"),
		SyncChunkSize:      2,
		SyncParallelChunks: 4,
		Refresh:            true,
		RefreshMinInterval: 0,
		TaskQueue:          "autoexposures-test",
	}
	return &fixture{
		sim:      sim,
		client:   tc,
		store:    st,
		settings: settings,
		acts:     &activities.Activities{Tableau: tc, Store: st, Settings: settings},
	}
}

// env returns a fresh activity test environment with the activities
// registered under their names.
func (f *fixture) env() *testsuite.TestActivityEnvironment {
	return envFor(f.acts)
}

// envFor returns a fresh activity test environment with acts registered.
func envFor(acts *activities.Activities) *testsuite.TestActivityEnvironment {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	for name, fn := range map[string]any{
		activities.ListWorkbooksName:    acts.ListWorkbooks,
		activities.ReadLineageName:      acts.ReadLineage,
		activities.LoadArtifactsName:    acts.LoadArtifacts,
		activities.ComputeExposuresName: acts.ComputeExposures,
		activities.GetLatestName:        acts.GetLatest,
		activities.SetLatestName:        acts.SetLatest,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return env
}

// run executes the named activity and decodes its result into out.
func run[T any](t *testing.T, env *testsuite.TestActivityEnvironment, name string, in any) (T, error) {
	t.Helper()
	var out T
	val, err := env.ExecuteActivity(name, in)
	if err != nil {
		return out, err
	}
	if err := val.Get(&out); err != nil {
		t.Fatalf("decoding the result of %s: %v", name, err)
	}
	return out, nil
}

// sync lists and reads sel, returning the stored snapshot's ref.
func (f *fixture) sync(t *testing.T, sel tableau.Selection, chunk int) activities.ReadLineageResult {
	t.Helper()
	env := f.env()
	listed, err := run[activities.ListWorkbooksResult](t, env, activities.ListWorkbooksName, activities.ListWorkbooksInput{Selection: sel})
	if err != nil {
		t.Fatalf("ListWorkbooks: %v", err)
	}
	read, err := run[activities.ReadLineageResult](t, f.env(), activities.ReadLineageName,
		activities.ReadLineageInput{WorkbookList: listed.WorkbookList, ChunkSize: chunk})
	if err != nil {
		t.Fatalf("ReadLineage: %v", err)
	}
	return read
}

func (f *fixture) snapshot(t *testing.T, ref store.Ref) *tableau.Snapshot {
	t.Helper()
	rc, err := f.store.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var snap tableau.Snapshot
	if err := json.NewDecoder(rc).Decode(&snap); err != nil {
		t.Fatal(err)
	}
	return &snap
}

// applicationError returns err's application error, failing the test when
// there is none.
func applicationError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		t.Fatalf("error = %v (%T), want an application error", err, err)
	}
	return appErr
}

func fileHash(t *testing.T, path string) (string, int64) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil)), n
}

func checkNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, secret := range []string{tokenSecret, revokedSecret} {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains a token secret: %s", what, text)
		}
	}
}

var background = context.Background()

// tableauAll selects every workbook on the site.
var tableauAll = tableau.Selection{}

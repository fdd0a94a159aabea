package activities_test

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func TestReadLineageMatchesReadSnapshot(t *testing.T) {
	tests := []struct {
		name     string
		sel      tableau.Selection
		chunk    int
		parallel int
		want     int
	}{
		{"whole site in one chunk", tableau.Selection{}, 100, 1, 4},
		{"one workbook a chunk in sequence", tableau.Selection{}, 1, 1, 4},
		{"one workbook a chunk four at once", tableau.Selection{}, 1, 4, 4},
		{"collection", tableau.Selection{Collections: []string{"Jaffle dashboards"}}, 2, 2, 3},
		{"project", tableau.Selection{Projects: []string{"Jaffle"}}, 3, 4, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)
			f.acts.Settings.SyncParallelChunks = tt.parallel

			read := f.sync(t, tt.sel, tt.chunk)

			if read.Workbooks != tt.want {
				t.Errorf("Workbooks = %d, want %d", read.Workbooks, tt.want)
			}
			if wantChunks := (tt.want + tt.chunk - 1) / tt.chunk; read.Chunks != wantChunks {
				t.Errorf("Chunks = %d, want %d", read.Chunks, wantChunks)
			}
			want, err := f.client.ReadSnapshot(background, tt.sel)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, f.snapshot(t, read.Snapshot)); diff != "" {
				t.Errorf("stored snapshot differs from the client's ReadSnapshot (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadLineageResumesFromHeartbeat(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	listed, err := run[activities.ListWorkbooksResult](t, f.env(), activities.ListWorkbooksName, activities.ListWorkbooksInput{})
	if err != nil {
		t.Fatal(err)
	}

	// An uninterrupted read, for comparison.
	f.sim.ResetCounts()
	full, err := run[activities.ReadLineageResult](t, f.env(), activities.ReadLineageName,
		activities.ReadLineageInput{WorkbookList: listed.WorkbookList, ChunkSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	fullRequests := f.sim.Count(tableausim.KindGraphQL)

	// A first attempt fails to store its third chunk; the SDK flushes its
	// last heartbeat when it fails, which is what a retry is given.
	// One chunk at a time, so that the first two chunks are stored before
	// the third fails.
	sequential := f.settings
	sequential.SyncParallelChunks = 1
	failing := &activities.Activities{Tableau: f.client, Store: &failingStore{Store: f.store, partsBeforeFailure: 2}, Settings: sequential}
	first := envFor(failing)
	var last *activities.ReadProgress
	first.SetOnActivityHeartbeatListener(func(_ *activity.Info, details converter.EncodedValues) {
		var p activities.ReadProgress
		if err := details.Get(&p); err != nil {
			t.Errorf("decoding heartbeat: %v", err)
			return
		}
		last = &p
	})
	_, err = run[activities.ReadLineageResult](t, first, activities.ReadLineageName,
		activities.ReadLineageInput{WorkbookList: listed.WorkbookList, ChunkSize: 1})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("first attempt error = %v, want the store's disk full", err)
	}
	if last == nil || last.Done != 2 || len(last.Parts) != 2 {
		t.Fatalf("last heartbeat = %+v, want two chunks done", last)
	}
	afterTwo := last

	tests := []struct {
		name        string
		details     activities.ReadProgress
		wantResumed int
	}{
		{"progress of this list", *afterTwo, 2},
		{"progress of another list", activities.ReadProgress{WorkbookList: strings.Repeat("0", 64), Done: 3, Total: 4, Parts: afterTwo.Parts}, 0},
		{"progress with a lost chunk", activities.ReadProgress{WorkbookList: afterTwo.WorkbookList, Done: 2, Total: 4,
			Parts: []store.Ref{afterTwo.Parts[0], {Kind: store.KindSnapshotPart, Hash: strings.Repeat("a", 64), Size: 10}}}, 0},
		{"progress with a modified chunk", activities.ReadProgress{WorkbookList: afterTwo.WorkbookList, Done: 1, Total: 4,
			Parts: []store.Ref{corruptPart(t, f)}}, 0},
	}
	// The cases run in order: the resumed read first.
	resumedRequests := 0
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			retry := f.env()
			retry.SetHeartbeatDetails(tt.details)
			f.sim.ResetCounts()

			got, err := run[activities.ReadLineageResult](t, retry, activities.ReadLineageName,
				activities.ReadLineageInput{WorkbookList: listed.WorkbookList, ChunkSize: 1})
			if err != nil {
				t.Fatal(err)
			}

			if got.Resumed != tt.wantResumed {
				t.Errorf("Resumed = %d, want %d", got.Resumed, tt.wantResumed)
			}
			if got.Snapshot != full.Snapshot {
				t.Errorf("snapshot %s, want the uninterrupted read's %s", got.Snapshot, full.Snapshot)
			}
			requests := f.sim.Count(tableausim.KindGraphQL)
			if tt.wantResumed > 0 {
				resumedRequests = requests
				if requests >= fullRequests {
					t.Errorf("resumed read sent %d GraphQL requests, want fewer than the full read's %d", requests, fullRequests)
				}
			}
			for _, part := range tt.details.Parts[:tt.wantResumed] {
				if _, err := f.store.Open(part); err == nil {
					t.Errorf("chunk %s still stored after the snapshot was", part.Short())
				}
			}
			// The client reuses its read of the site's custom SQL for a
			// while, so later reads send fewer requests than the first.
			// A restarted read is therefore compared with the resumed one.
			if tt.wantResumed == 0 && requests <= resumedRequests {
				t.Errorf("restarted read sent %d GraphQL requests, want more than the resumed read's %d", requests, resumedRequests)
			}
		})
	}
}

func TestTableauErrorsClassified(t *testing.T) {
	tests := []struct {
		name          string
		token, secret string
		sel           tableau.Selection
		fault         *tableausim.Fault
		wantType      string
		nonRetryable  bool
		wantMessage   string
		wantNextDelay time.Duration
	}{
		{
			name: "revoked token", token: "revoked-token", secret: revokedSecret,
			wantType: activities.ErrTypeInvalidCredentials, nonRetryable: true, wantMessage: "TABLEAU_TOKEN_SECRET",
		},
		{
			name: "unknown collection", token: tokenName, secret: tokenSecret,
			sel:      tableau.Selection{Collections: []string{"Jaffle dashbords"}},
			wantType: activities.ErrTypeNotFound, nonRetryable: true, wantMessage: "Jaffle dashbords",
		},
		{
			name: "server errors", token: tokenName, secret: tokenSecret,
			fault:    &tableausim.Fault{Status: 503, Times: -1},
			wantType: activities.ErrTypeTableau, nonRetryable: false,
		},
		{
			name: "rate limit longer than the client waits", token: tokenName, secret: tokenSecret,
			fault:    &tableausim.Fault{Status: 429, RetryAfter: 10 * time.Minute, Times: -1},
			wantType: activities.ErrTypeRateLimited, nonRetryable: false, wantNextDelay: 10 * time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tt.token, tt.secret)
			if tt.fault != nil {
				f.sim.InjectFault(*tt.fault)
			}

			_, err := run[activities.ListWorkbooksResult](t, f.env(), activities.ListWorkbooksName, activities.ListWorkbooksInput{Selection: tt.sel})

			if err == nil {
				t.Fatal("ListWorkbooks succeeded, want an error")
			}
			appErr := applicationError(t, err)
			if appErr.Type() != tt.wantType {
				t.Errorf("error type = %q, want %q (%v)", appErr.Type(), tt.wantType, err)
			}
			if appErr.NonRetryable() != tt.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v (%v)", appErr.NonRetryable(), tt.nonRetryable, err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error = %v, want it to mention %q", err, tt.wantMessage)
			}
			if appErr.NextRetryDelay() != tt.wantNextDelay {
				t.Errorf("NextRetryDelay = %s, want %s", appErr.NextRetryDelay(), tt.wantNextDelay)
			}
			checkNoSecret(t, "error", err.Error())
		})
	}
}

// failingStore fails every Put of a snapshot chunk after the first
// partsBeforeFailure, as a full disk would.
type failingStore struct {
	store.Store
	partsBeforeFailure int
	parts              int
}

func (s *failingStore) Put(kind string, r io.Reader) (store.Ref, error) {
	if kind == store.KindSnapshotPart {
		s.parts++
		if s.parts > s.partsBeforeFailure {
			return store.Ref{}, errors.New("disk full")
		}
	}
	return s.Store.Put(kind, r)
}

// corruptPart stores a chunk and then modifies its file, as a disk error
// or a person editing the state directory would.
func corruptPart(t *testing.T, f *fixture) store.Ref {
	t.Helper()
	ref, err := f.store.Put(store.KindSnapshotPart, strings.NewReader(`{"workbooks":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	path, err := f.store.Path(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(`{"workbooks":[{}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return ref
}

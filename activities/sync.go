package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// ListWorkbooksInput is the selection to resolve. An empty selection means
// the worker's default selection (AUTOEXPOSURES_COLLECTIONS, _PROJECTS,
// _WORKBOOK_LUIDS), and when that is empty too, every workbook on the site.
type ListWorkbooksInput struct {
	Selection tableau.Selection
}

// ListWorkbooksResult names the stored workbook list and counts it.
type ListWorkbooksResult struct {
	// WorkbookList is the stored list: the resolved selection, the
	// workbook LUIDs and the collections.
	WorkbookList store.Ref
	// Selection is the selection that was resolved, after defaults.
	Selection tableau.Selection
	Workbooks int
	// Collections counts the site's collections recorded with the list,
	// whatever the selection; zero on a site without collections.
	Collections int
}

// workbookList is the stored form of a resolved selection. Collections
// holds every collection of the site with its workbooks, so that a
// snapshot records each workbook's collections however it was selected.
type workbookList struct {
	SiteLUID    string               `json:"siteLuid,omitempty"`
	Selection   tableau.Selection    `json:"selection"`
	LUIDs       []string             `json:"workbookLuids"`
	Collections []tableau.Collection `json:"collections,omitempty"`
}

// ListWorkbooks resolves a selection of collections, projects or workbook
// LUIDs to the workbooks it holds, with Tableau's cheap listing calls, and
// stores the list for ReadLineage, with the site's collections. A project,
// collection or workbook LUID that selects no workbook is non-retryable
// (see checkSelectionMatches). So is a collection selection on a site that
// does not serve collections, and other selections read such a site
// without collection membership.
func (a *Activities) ListWorkbooks(ctx context.Context, in ListWorkbooksInput) (ListWorkbooksResult, error) {
	logger := activity.GetLogger(ctx)
	sel := in.Selection
	if sel.IsEmpty() {
		sel = a.Settings.DefaultSelection()
	}
	stop := keepAlive(ctx)
	defer stop()

	refs, collections, err := a.Tableau.ListWorkbooks(ctx, sel)
	if err != nil {
		return ListWorkbooksResult{}, tableauError("listing workbooks", err)
	}

	if err := checkSelectionMatches(sel, refs, collections, a.Tableau.Site()); err != nil {
		return ListWorkbooksResult{}, err
	}

	siteLUID, err := a.Tableau.SiteLUID(ctx)
	if err != nil {
		return ListWorkbooksResult{}, tableauError("reading the site LUID", err)
	}

	list := workbookList{SiteLUID: siteLUID, Selection: sel, Collections: collections}
	for _, r := range refs {
		list.LUIDs = append(list.LUIDs, r.LUID)
	}
	slices.Sort(list.LUIDs)
	list.LUIDs = slices.Compact(list.LUIDs)
	ref, err := a.putJSON(store.KindWorkbookList, list)
	if err != nil {
		return ListWorkbooksResult{}, storeError("storing the workbook list", err)
	}

	logger.Info("workbooks listed", "workbooks", len(list.LUIDs), "collections", len(collections),
		"selected_collections", sel.Collections, "selected_projects", sel.Projects, "workbook_list", ref.Hash)
	return ListWorkbooksResult{
		WorkbookList: ref,
		Selection:    sel,
		Workbooks:    len(list.LUIDs),
		Collections:  len(collections),
	}, nil
}

// checkSelectionMatches returns a non-retryable error naming every
// project, collection and workbook LUID of sel that selects none of the
// listed workbooks. Such a selection is almost always a typo, and syncing it
// would replace the exposures with an empty file. An empty selection (the
// whole site) is never an error, even on a site without workbooks.
func checkSelectionMatches(sel tableau.Selection, refs []tableau.WorkbookRef, collections []tableau.Collection, site string) error {
	listed := make(map[string]bool, len(refs))
	projects := map[string]bool{}
	for _, r := range refs {
		listed[r.LUID] = true
		projects[r.ProjectName] = true
	}

	var problems []string
	for _, name := range sel.Projects {
		if !projects[name] {
			problems = append(problems, fmt.Sprintf("project %q has no workbook", name))
		}
	}
	for _, want := range sel.Collections {
		for _, c := range collections {
			if c.Name != want && c.LUID != want {
				continue
			}
			if !slices.ContainsFunc(c.WorkbookLUIDs, func(luid string) bool { return listed[luid] }) {
				problems = append(problems, fmt.Sprintf("collection %q contains no workbook", want))
			}
			break
		}
	}
	var missing []string
	for _, luid := range sel.WorkbookLUIDs {
		if !listed[luid] {
			missing = append(missing, luid)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("workbook LUIDs not found: %s", strings.Join(missing, ", ")))
	}
	if len(problems) == 0 {
		return nil
	}

	// The check above compares names exactly, so a name in another letter
	// case fails here even if Tableau's own filter ignored case.
	// NOTE: whether projectNameWithin ignores case on a live Tableau server
	// is not checked; the simulator matches exactly.
	msg := fmt.Sprintf("the selection on Tableau site %q matches no workbook for: %s; nothing was written. "+
		"Check the names and LUIDs, and that the token's user can see the workbooks. "+
		"Project and collection names must match exactly, including letter case, "+
		"and a workbook in a nested project belongs only to its innermost project. "+
		"Fix the selection (starter sync flags, the schedule's collections, or AUTOEXPOSURES_COLLECTIONS, AUTOEXPOSURES_PROJECTS and AUTOEXPOSURES_WORKBOOK_LUIDS)",
		site, strings.Join(problems, "; "))
	return temporal.NewNonRetryableApplicationError(msg, ErrTypeNotFound, nil)
}

// ReadLineageInput names the workbook list to read. ChunkSize is how many
// workbooks are read between two checkpoints; zero takes the worker's
// AUTOEXPOSURES_SYNC_CHUNK_SIZE.
type ReadLineageInput struct {
	WorkbookList store.Ref
	ChunkSize    int `json:",omitempty"`
}

// ReadLineageResult names the stored snapshot and counts what it holds.
type ReadLineageResult struct {
	Snapshot             store.Ref
	Workbooks            int
	PublishedDatasources int
	// Missing counts workbooks deleted between listing and reading.
	Missing int
	// Chunks counts the chunks read; Resumed those taken over from an
	// earlier attempt.
	Chunks  int
	Resumed int
}

// ReadProgress is the heartbeat detail of ReadLineage: how far the read got
// and where the chunks read so far are stored. A retry, on this worker or
// another, resumes from it.
type ReadProgress struct {
	// WorkbookList is the hash of the list being read; progress of another
	// list is ignored.
	WorkbookList string
	// Done is how many LUIDs of the list, in order, are read and stored.
	Done    int
	Total   int
	Missing int
	Parts   []store.Ref
}

// snapshotPart is the stored form of one chunk.
type snapshotPart struct {
	Workbooks            []tableau.Workbook            `json:"workbooks"`
	PublishedDatasources []tableau.PublishedDatasource `json:"publishedDatasources,omitempty"`
	Missing              []string                      `json:"missing,omitempty"`
}

// ReadLineage reads the full lineage of every listed workbook in chunks,
// stores each chunk, and records its progress in the activity heartbeat, so
// a retry or a new worker resumes after the last stored chunk. At the end it
// assembles one normalized snapshot and stores it.
func (a *Activities) ReadLineage(ctx context.Context, in ReadLineageInput) (ReadLineageResult, error) {
	logger := activity.GetLogger(ctx)
	var list workbookList
	if err := a.getJSON(in.WorkbookList, &list); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return ReadLineageResult{}, invalidInput("reading workbook list: %v: run the sync again", err)
		}
		return ReadLineageResult{}, storeError("reading workbook list", err)
	}
	chunk := in.ChunkSize
	if chunk <= 0 {
		chunk = a.Settings.SyncChunkSize
	}
	if chunk <= 0 {
		chunk = 500
	}

	progress := a.resumeProgress(ctx, in.WorkbookList, len(list.LUIDs))
	resumed := len(progress.Parts)
	if resumed > 0 {
		logger.Info("lineage read resumed", "workbook_list", in.WorkbookList.Hash, "done", progress.Done, "total", progress.Total)
	}

	hb := startHeartbeat(ctx, progress)
	defer hb.stop()
	progress, err := a.readChunks(ctx, list.LUIDs, chunk, progress, hb)
	if err != nil {
		return ReadLineageResult{}, err
	}

	snap, err := a.assembleSnapshot(list, progress.Parts)
	if err != nil {
		return ReadLineageResult{}, err
	}
	ref, err := a.putJSON(store.KindSnapshot, snap)
	if err != nil {
		return ReadLineageResult{}, storeError("storing snapshot", err)
	}

	// The chunks are only needed to resume this read; removing them keeps
	// the state directory from growing by a second copy of every snapshot.
	// A failure costs disk space only, so it is logged and not returned.
	for _, part := range progress.Parts {
		if err := a.Store.Delete(part); err != nil {
			logger.Warn("removing a lineage chunk failed", "part", part.Hash, "error", err)
		}
	}

	logger.Info("snapshot stored", "snapshot", ref.Hash, "workbooks", len(snap.Workbooks),
		"published_datasources", len(snap.PublishedDatasources), "missing", progress.Missing)
	return ReadLineageResult{
		Snapshot:             ref,
		Workbooks:            len(snap.Workbooks),
		PublishedDatasources: len(snap.PublishedDatasources),
		Missing:              progress.Missing,
		Chunks:               len(progress.Parts),
		Resumed:              resumed,
	}, nil
}

// chunkRead is one chunk read and stored, or the error that stopped it.
type chunkRead struct {
	start, end int
	part       store.Ref
	missing    int
	err        error
}

// readChunks reads luids from progress.Done on, chunk by chunk, storing
// each chunk and heartbeating the progress. Up to SyncParallelChunks chunks
// are read at once, so that the client's request slots can stay busy
// between chunks. Progress advances only over a contiguous prefix, so a
// resumed read never skips a chunk. The first chunk is read
// alone because it warms the client's reuse of the site's custom SQL, which
// concurrent first reads would each fetch in full.
func (a *Activities) readChunks(ctx context.Context, luids []string, chunk int, progress ReadProgress, hb *heartbeat) (ReadProgress, error) {
	logger := activity.GetLogger(ctx)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	window := 1
	inFlight := max(1, a.Settings.SyncParallelChunks)
	results := make(chan chunkRead)
	next, running := progress.Done, 0
	pending := map[int]chunkRead{}

	for progress.Done < len(luids) {
		for running < window && next < len(luids) {
			start, end := next, min(next+chunk, len(luids))
			next, running = end, running+1
			go func() { results <- a.readChunk(ctx, luids, start, end) }()
		}

		r := <-results
		running--
		if r.err != nil {
			// Stop the other reads and wait for them, so that none
			// outlives the attempt, keeping those that finished.
			cancel()
			for ; running > 0; running-- {
				if other := <-results; other.err == nil {
					pending[other.start] = other
				}
			}
			commit(ctx, &progress, pending, len(luids), hb, logger)
			return progress, r.err
		}
		window = inFlight
		pending[r.start] = r
		commit(ctx, &progress, pending, len(luids), hb, logger)
	}
	return progress, nil
}

// commit adds the pending chunks that follow progress without a gap to it,
// and heartbeats the new progress.
func commit(ctx context.Context, progress *ReadProgress, pending map[int]chunkRead, total int, hb *heartbeat, logger log.Logger) {
	for {
		p, ok := pending[progress.Done]
		if !ok {
			return
		}
		delete(pending, progress.Done)
		progress.Parts = append(progress.Parts, p.part)
		progress.Done = p.end
		progress.Missing += p.missing
		hb.update(ctx, *progress)
		logger.Info("lineage chunk stored", "done", p.end, "total", total, "missing", p.missing, "part", p.part.Hash)
	}
}

// readChunk reads the lineage of luids[start:end] and stores it.
func (a *Activities) readChunk(ctx context.Context, luids []string, start, end int) chunkRead {
	r := chunkRead{start: start, end: end}
	read, err := a.Tableau.ReadWorkbooks(ctx, luids[start:end])
	if err != nil {
		r.err = tableauError(fmt.Sprintf("reading lineage of workbooks %d to %d of %d", start+1, end, len(luids)), err)
		return r
	}
	r.part, err = a.putJSON(store.KindSnapshotPart, snapshotPart{
		Workbooks:            read.Workbooks,
		PublishedDatasources: read.PublishedDatasources,
		Missing:              read.Missing,
	})
	if err != nil {
		r.err = storeError("storing lineage chunk", err)
		return r
	}
	r.missing = len(read.Missing)
	return r
}

// resumeProgress returns the progress recorded by an earlier attempt of
// this activity when it read the same list and its chunks are still in the
// store, and a fresh start otherwise.
func (a *Activities) resumeProgress(ctx context.Context, list store.Ref, total int) ReadProgress {
	fresh := ReadProgress{WorkbookList: list.Hash, Total: total}
	if !activity.HasHeartbeatDetails(ctx) {
		return fresh
	}
	logger := activity.GetLogger(ctx)
	var p ReadProgress
	if err := activity.GetHeartbeatDetails(ctx, &p); err != nil {
		logger.Warn("heartbeat details unreadable, reading from the start", "error", err)
		return fresh
	}
	if p.WorkbookList != list.Hash || p.Total != total || p.Done > total {
		logger.Warn("heartbeat details are for another workbook list, reading from the start", "workbook_list", list.Hash)
		return fresh
	}
	// Each chunk is read through, so that the store checks its hash: a
	// missing or corrupt chunk would fail every later attempt.
	for _, part := range p.Parts {
		if err := a.checkBlob(part); err != nil {
			logger.Warn("stored chunk unusable, reading from the start", "part", part.Hash, "error", err)
			return fresh
		}
	}
	return p
}

// checkBlob reads the blob ref names to its end, which checks its hash.
func (a *Activities) checkBlob(ref store.Ref) error {
	rc, err := a.Store.Open(ref)
	if err != nil {
		return err
	}
	defer rc.Close()
	_, err = io.Copy(io.Discard, rc)
	return err
}

// assembleSnapshot merges the stored chunks into one normalized snapshot.
func (a *Activities) assembleSnapshot(list workbookList, parts []store.Ref) (*tableau.Snapshot, error) {
	server, site := a.siteIdentity()
	snap := &tableau.Snapshot{
		FormatVersion: tableau.SnapshotFormatVersion,
		ServerURL:     server,
		Site:          site,
		SiteLUID:      list.SiteLUID,
		Selection:     list.Selection,
		Collections:   list.Collections,
		Workbooks:     []tableau.Workbook{},
	}

	// A published data source shared by workbooks of several chunks is read
	// once per chunk; keep one.
	seenDatasource := map[string]bool{}
	for _, ref := range parts {
		var part snapshotPart
		if err := a.getJSON(ref, &part); err != nil {
			return nil, storeError("reading lineage chunk", err)
		}
		snap.Workbooks = append(snap.Workbooks, part.Workbooks...)
		for _, d := range part.PublishedDatasources {
			if seenDatasource[d.LUID] {
				continue
			}
			seenDatasource[d.LUID] = true
			snap.PublishedDatasources = append(snap.PublishedDatasources, d)
		}
	}

	// Only the listing returns which collections hold a workbook. It lists
	// every collection of the site for every selection: were the membership
	// recorded only for a collection selection, the exposures' collections
	// would change each time a whole-site or project sync followed one.
	holders := map[string][]string{}
	for _, c := range list.Collections {
		for _, luid := range c.WorkbookLUIDs {
			holders[luid] = append(holders[luid], c.LUID)
		}
	}
	for i := range snap.Workbooks {
		snap.Workbooks[i].Collections = holders[snap.Workbooks[i].LUID]
	}

	snap.Normalize()
	return snap, nil
}

// heartbeat records ReadLineage's progress while a chunk is being read, so
// that a long chunk does not miss the heartbeat timeout.
type heartbeat struct {
	mu       sync.Mutex
	progress ReadProgress
	done     chan struct{}
	wg       sync.WaitGroup
}

func startHeartbeat(ctx context.Context, p ReadProgress) *heartbeat {
	hb := &heartbeat{progress: p, done: make(chan struct{})}
	activity.RecordHeartbeat(ctx, p)

	interval := activity.GetInfo(ctx).HeartbeatTimeout / 3
	if interval <= 0 {
		interval = 10 * time.Second
	}
	hb.wg.Add(1)
	go func() {
		defer hb.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-hb.done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				hb.mu.Lock()
				p := hb.progress
				hb.mu.Unlock()
				activity.RecordHeartbeat(ctx, p)
			}
		}
	}()
	return hb
}

// update records p at once; the SDK throttles what it sends to the server
// and always sends the last details it was given.
func (hb *heartbeat) update(ctx context.Context, p ReadProgress) {
	p.Parts = slices.Clone(p.Parts)
	hb.mu.Lock()
	hb.progress = p
	hb.mu.Unlock()
	activity.RecordHeartbeat(ctx, p)
}

func (hb *heartbeat) stop() {
	close(hb.done)
	hb.wg.Wait()
}

// siteIdentity returns the Tableau server's base URL and the site's content
// URL, which the snapshot records.
func (a *Activities) siteIdentity() (server, site string) {
	if a.Tableau == nil {
		return "", ""
	}
	return a.Tableau.ServerURL(), a.Tableau.Site()
}

package tableausim_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// TestConcurrentRequests mixes reads, refreshes, job reads, deletions and
// faults from several goroutines; run with -race it checks the locking.
func TestConcurrentRequests(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Skip: 5, Times: 3, Status: 503})

	var wg sync.WaitGroup
	statuses := make(chan int, 200)
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				switch (g + i) % 4 {
				case 0:
					status, _ := h.graphql(token, `{ workbooksConnection(first: 2) { nodes { name upstreamTables { name } } } }`, nil)
					statuses <- status
				case 1:
					statuses <- h.refresh(token, "datasources", sharedLUID).status
				case 2:
					statuses <- h.do("GET", sitePrefix+"/jobs", token, "application/json", "").status
				case 3:
					h.clock.Advance(5 * time.Second)
					statuses <- h.do("GET", sitePrefix+"/collections", token, "", "").status
				}
			}
		})
	}
	wg.Go(func() { h.srv.DeleteWorkbook(staticLUID) })
	wg.Wait()
	close(statuses)

	for status := range statuses {
		switch status {
		case http.StatusOK, http.StatusAccepted, http.StatusConflict, http.StatusServiceUnavailable:
		default:
			t.Errorf("unexpected status %d", status)
		}
	}
	if got := h.srv.Count(tableausim.KindGraphQL); got != 10 {
		t.Errorf("Count(graphql) = %d, want 10", got)
	}
	if got := h.srv.MaxConcurrent(); got < 1 || got > 5 {
		t.Errorf("MaxConcurrent() = %d, want 1 to 5", got)
	}
}

package tableau

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// NOTE: Tableau added "Collections Methods" in REST API 3.28 (Tableau Cloud
// February 2026). The public material available here names the methods (list
// collections, list the items of a collection) but not their exact paths or
// XML. Both requests below are therefore this client's best reading, kept in
// this one place, and the simulator in testsuite/tableausim follows them.
// Check them against the REST API reference before relying on them with a
// real site, and change collectionsPath and collectionItemsPath if they
// differ.

// collectionsPath lists the site's collections, paged like other REST lists.
func collectionsPath(s *session) string {
	return "/sites/" + s.siteLUID + "/collections"
}

// collectionItemsPath lists the items of one collection, paged.
func collectionItemsPath(s *session, collectionLUID string) string {
	return "/sites/" + s.siteLUID + "/collections/" + url.PathEscape(collectionLUID) + "/items"
}

// restCollection is a <collection> of the collections list.
type restCollection struct {
	ID   string `xml:"id,attr"`
	LUID string `xml:"luid,attr"`
	Name string `xml:"name,attr"`
}

func (r restCollection) luid() string {
	if r.ID != "" {
		return r.ID
	}
	return r.LUID
}

// restCollectionItem is an <item> of a collection. Tableau calls the item's
// resource type contentType in responses and type in filters.
type restCollectionItem struct {
	ID          string `xml:"id,attr"`
	LUID        string `xml:"luid,attr"`
	ContentType string `xml:"contentType,attr"`
	Type        string `xml:"type,attr"`
}

func (r restCollectionItem) luid() string {
	if r.ID != "" {
		return r.ID
	}
	return r.LUID
}

func (r restCollectionItem) isWorkbook() bool {
	t := r.ContentType
	if t == "" {
		t = r.Type
	}
	return strings.EqualFold(t, "workbook")
}

// collectionsVersion is the first REST API version with the collections
// methods. An older site returns 404 for their paths.
const collectionsVersion = "3.28"

// ListCollections returns the site's collections that the token's user can
// see, each with the LUIDs of the workbooks it holds. On a site that does not
// serve collections it returns a non-retryable ErrNotFound that explains why.
func (c *Client) ListCollections(ctx context.Context) ([]Collection, error) {
	cols, err := c.siteCollections(ctx)
	if err != nil {
		if notServed(err) {
			return nil, c.notServedError(ctx, "listing Tableau collections", err)
		}
		return nil, err
	}
	return cols, nil
}

// siteCollections lists the site's collections with their workbooks. The
// items of several collections are read at once, up to Config.Concurrency.
// A collection deleted between the two listings is left out. The error of a
// site without the collections methods satisfies notServed.
func (c *Client) siteCollections(ctx context.Context) ([]Collection, error) {
	// Signing in first settles the REST version once. A REST call requests
	// serverinfo itself while no version is known, and so would each
	// Metadata API read that ReadSnapshot starts alongside.
	if _, err := c.currentSession(ctx); err != nil {
		return nil, err
	}
	cols, err := c.collectionIndex(ctx)
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deleted := make([]bool, len(cols))
	var (
		mu       sync.Mutex
		firstErr error
	)

	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(c.cfg.Concurrency, len(cols))) {
		wg.Go(func() {
			for i := range next {
				luids, err := c.collectionWorkbooks(ctx, cols[i])
				switch {
				case err == nil:
					cols[i].WorkbookLUIDs = luids
				case errors.Is(err, ErrNotFound):
					deleted[i] = true
				default:
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
				}
			}
		})
	}
feed:
	for i := range cols {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	out := make([]Collection, 0, len(cols))
	for i, col := range cols {
		if deleted[i] {
			c.logger.InfoContext(ctx, "tableau collection deleted while listing, leaving it out",
				"collection_luid", col.LUID, "collection", col.Name)
			continue
		}
		out = append(out, col)
	}
	return out, nil
}

// collectionIndex lists the collections without their items.
func (c *Client) collectionIndex(ctx context.Context) ([]Collection, error) {
	var cols []Collection
	err := c.restPages(ctx, restRequest{
		what:   "listing Tableau collections",
		method: http.MethodGet,
		path:   collectionsPath,
	}, func(page *tsResponse) error {
		for _, rc := range page.Collections {
			cols = append(cols, Collection{LUID: rc.luid(), Name: rc.Name})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return cols, nil
}

// collectionWorkbooks lists the workbook LUIDs of one collection.
func (c *Client) collectionWorkbooks(ctx context.Context, col Collection) ([]string, error) {
	var luids []string
	err := c.restPages(ctx, restRequest{
		what:   fmt.Sprintf("listing the items of Tableau collection %q (%s)", col.Name, col.LUID),
		method: http.MethodGet,
		path:   func(s *session) string { return collectionItemsPath(s, col.LUID) },
	}, func(page *tsResponse) error {
		for _, item := range page.Items {
			if item.isWorkbook() && item.luid() != "" {
				luids = append(luids, item.luid())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return luids, nil
}

// notServed reports whether err is the response of a site without the
// collections methods: HTTP 404 for the collections list, which Tableau
// returns for a path that its REST version does not have.
func notServed(err error) bool {
	var te *Error
	return errors.As(err, &te) && te.HTTPStatus == http.StatusNotFound
}

// notServedError explains that the site does not serve collections. It is
// not retryable, because a retry gets the same 404.
func (c *Client) notServedError(ctx context.Context, what string, err error) error {
	version, _ := c.apiVersion(ctx)
	var te *Error
	errors.As(err, &te)
	return &Error{Kind: ErrNotFound, Code: te.Code, HTTPStatus: te.HTTPStatus, Message: fmt.Sprintf(
		"%s: site %q does not serve Tableau collections (REST API %s; collections need %s or later): "+
			"select workbooks by project or LUID instead, or set TABLEAU_API_VERSION to %s or later if the server supports it",
		what, c.cfg.Site, version, collectionsVersion, collectionsVersion)}
}

// resolveCollections finds each configured collection in index, by LUID or
// else by name (names compare case-insensitively, as Tableau shows them),
// and fails on the first one that does not exist or is ambiguous.
func (c *Client) resolveCollections(index []Collection, wanted []string) ([]Collection, error) {
	var out []Collection
	seen := map[string]bool{}
	for _, w := range wanted {
		key := strings.TrimSpace(w)
		col, err := findCollection(index, key, c.cfg.Site)
		if err != nil {
			return nil, err
		}
		if seen[col.LUID] {
			continue
		}
		seen[col.LUID] = true
		out = append(out, col)
	}
	return out, nil
}

func findCollection(index []Collection, key, site string) (Collection, error) {
	for _, col := range index {
		if strings.EqualFold(col.LUID, key) {
			return col, nil
		}
	}
	var matches []Collection
	for _, col := range index {
		if strings.EqualFold(col.Name, key) {
			matches = append(matches, col)
		}
	}
	switch len(matches) {
	case 1:
		return matches[0], nil
	case 0:
		return Collection{}, &Error{Kind: ErrNotFound, Message: fmt.Sprintf(
			"collection %q not found on site %q: check the name or LUID, and that the token's user can see the collection", key, site)}
	}
	luids := make([]string, len(matches))
	for i, m := range matches {
		luids[i] = m.LUID
	}
	return Collection{}, &Error{Kind: ErrBadRequest, Message: fmt.Sprintf(
		"collection name %q matches %d collections on site %q (%s): select it by LUID", key, len(matches), site, strings.Join(luids, ", "))}
}

package tableau

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
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

// ListCollections returns the site's collections that the token's user can
// see, each with the LUIDs of the workbooks it holds.
func (c *Client) ListCollections(ctx context.Context) ([]Collection, error) {
	cols, err := c.collectionIndex(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cols {
		if cols[i].WorkbookLUIDs, err = c.collectionWorkbooks(ctx, cols[i]); err != nil {
			return nil, err
		}
	}
	return cols, nil
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

// resolveCollections finds each configured collection, by LUID or else by
// name (names compare case-insensitively, as Tableau shows them), and fails
// on the first one that does not exist or is ambiguous.
func (c *Client) resolveCollections(ctx context.Context, wanted []string) ([]Collection, error) {
	if len(wanted) == 0 {
		return nil, nil
	}
	index, err := c.collectionIndex(ctx)
	if err != nil {
		return nil, err
	}
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
		if col.WorkbookLUIDs, err = c.collectionWorkbooks(ctx, col); err != nil {
			return nil, err
		}
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

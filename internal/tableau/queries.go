package tableau

import "github.com/shurcooL/graphql"

// The Go types below spell the Metadata API queries for
// github.com/shurcooL/graphql. Type, field, filter and argument names are
// Tableau's, as in the Metadata API reference
// (help.tableau.com/current/api/metadata_api/en-us/reference) and in the
// recorded responses in testdata/tableau/metadata.

// Workbook_Filter is Tableau's filter input of workbooksConnection. The Go
// name must equal the GraphQL input type name, because the graphql package
// declares variables by their Go type name.
type Workbook_Filter struct { //nolint:revive // name fixed by the GraphQL schema
	LUIDWithin        []string `json:"luidWithin,omitempty"`
	ProjectNameWithin []string `json:"projectNameWithin,omitempty"`
}

// PublishedDatasource_Filter is Tableau's filter input of
// publishedDatasourcesConnection.
type PublishedDatasource_Filter struct { //nolint:revive // name fixed by the GraphQL schema
	LUIDWithin []string `json:"luidWithin,omitempty"`
}

type pageInfo struct {
	HasNextPage bool   `graphql:"hasNextPage"`
	EndCursor   string `graphql:"endCursor"`
}

// listWorkbooksQuery is the cheap listing: one node per workbook.
type listWorkbooksQuery struct {
	WorkbooksConnection struct {
		Nodes []struct {
			LUID        string `graphql:"luid"`
			Name        string `graphql:"name"`
			ProjectName string `graphql:"projectName"`
			UpdatedAt   string `graphql:"updatedAt"`
		} `graphql:"nodes"`
		PageInfo pageInfo `graphql:"pageInfo"`
	} `graphql:"workbooksConnection(first: $first, after: $after, filter: $filter)"`
}

// ownerNode is a TableauUser.
type ownerNode struct {
	Name     string `graphql:"name"`
	Email    string `graphql:"email"`
	Username string `graphql:"username"`
}

// databaseNode is the Database a table lives in.
type databaseNode struct {
	Name           string `graphql:"name"`
	ConnectionType string `graphql:"connectionType"`
}

// tableNode is a DatabaseTable.
type tableNode struct {
	ID             string        `graphql:"id"`
	Name           string        `graphql:"name"`
	Schema         string        `graphql:"schema"`
	FullName       string        `graphql:"fullName"`
	ConnectionType string        `graphql:"connectionType"`
	Database       *databaseNode `graphql:"database"`
}

// workbookNode is one workbook with its lineage.
type workbookNode struct {
	LUID        string    `graphql:"luid"`
	Name        string    `graphql:"name"`
	ProjectName string    `graphql:"projectName"`
	ProjectLUID string    `graphql:"projectLuid"`
	Description string    `graphql:"description"`
	URI         string    `graphql:"uri"`
	UpdatedAt   string    `graphql:"updatedAt"`
	Owner       ownerNode `graphql:"owner"`
	Tags        []struct {
		Name string `graphql:"name"`
	} `graphql:"tags"`
	Dashboards []struct {
		ID   string `graphql:"id"`
		LUID string `graphql:"luid"`
		Name string `graphql:"name"`
		Path string `graphql:"path"`
	} `graphql:"dashboards"`
	EmbeddedDatasources []struct {
		ID                     string      `graphql:"id"`
		Name                   string      `graphql:"name"`
		HasExtracts            bool        `graphql:"hasExtracts"`
		ExtractLastRefreshTime *string     `graphql:"extractLastRefreshTime"`
		UpstreamTables         []tableNode `graphql:"upstreamTables"`
	} `graphql:"embeddedDatasources"`
	// UpstreamDatasources are the published data sources the workbook
	// reads, directly or through its embedded data sources. Their lineage is
	// read once per data source, not once per workbook.
	UpstreamDatasources []struct {
		LUID string `graphql:"luid"`
	} `graphql:"upstreamDatasources"`
}

// readWorkbooksQuery reads full lineage for a batch of workbooks.
type readWorkbooksQuery struct {
	WorkbooksConnection struct {
		Nodes    []workbookNode `graphql:"nodes"`
		PageInfo pageInfo       `graphql:"pageInfo"`
	} `graphql:"workbooksConnection(first: $first, after: $after, filter: $filter)"`
}

// publishedDatasourceNode is a PublishedDatasource with its lineage.
type publishedDatasourceNode struct {
	ID                     string      `graphql:"id"`
	LUID                   string      `graphql:"luid"`
	Name                   string      `graphql:"name"`
	ProjectName            string      `graphql:"projectName"`
	Owner                  ownerNode   `graphql:"owner"`
	HasExtracts            bool        `graphql:"hasExtracts"`
	ExtractLastRefreshTime *string     `graphql:"extractLastRefreshTime"`
	UpstreamTables         []tableNode `graphql:"upstreamTables"`
}

type readPublishedDatasourcesQuery struct {
	PublishedDatasourcesConnection struct {
		Nodes    []publishedDatasourceNode `graphql:"nodes"`
		PageInfo pageInfo                  `graphql:"pageInfo"`
	} `graphql:"publishedDatasourcesConnection(first: $first, after: $after, filter: $filter)"`
}

// customSQLNode is a CustomSQLTable: the query text, the tables Tableau
// parsed from it (empty when it could not) and the data sources it feeds.
type customSQLNode struct {
	ID             string        `graphql:"id"`
	Name           string        `graphql:"name"`
	Query          string        `graphql:"query"`
	ConnectionType string        `graphql:"connectionType"`
	Database       *databaseNode `graphql:"database"`
	Tables         []tableNode   `graphql:"tables"`
	// DownstreamDatasources holds the Metadata API ids of the embedded and
	// published data sources that contain the query.
	DownstreamDatasources []struct {
		ID string `graphql:"id"`
	} `graphql:"downstreamDatasources"`
}

type readCustomSQLQuery struct {
	CustomSQLTablesConnection struct {
		Nodes    []customSQLNode `graphql:"nodes"`
		PageInfo pageInfo        `graphql:"pageInfo"`
	} `graphql:"customSQLTablesConnection(first: $first, after: $after)"`
}

// cursor returns the after variable: null for the first page.
func cursor(after string) *graphql.String {
	if after == "" {
		return nil
	}
	s := graphql.String(after)
	return &s
}

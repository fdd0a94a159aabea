// Package tableau reads Tableau sites: sign-in with a personal access token,
// workbooks and their lineage through the Metadata API, collections, and
// extract refreshes through the REST API.
package tableau

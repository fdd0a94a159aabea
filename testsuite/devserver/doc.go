// Package devserver runs the Temporal CLI's development server for the demo,
// the end-to-end tests and local work.
//
// The CLI is built from source with
//
//	GOBIN=<repository>/bin go install github.com/temporalio/cli/cmd/temporal@v1.5.1
//
// when <repository>/bin/temporal is missing, so a fresh clone needs only Go.
// The server listens on 127.0.0.1 only, on free ports unless the caller
// gives fixed ones, and keeps its state in a SQLite file.
package devserver

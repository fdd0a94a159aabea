package main

import (
	"fmt"
	"io"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// TODO: replace with the workflows package's types once it lands.
const (
	collectionSyncWorkflow = "CollectionSyncWorkflow"
	jobLineageWorkflow     = "JobLineageWorkflow"
)

type syncInput struct {
	Selection tableau.Selection
}

type syncResult map[string]any

type lineageInput struct {
	DbtRunID   string
	Manifest   string
	RunResults string
}

type lineageResult map[string]any

func writeSyncResult(w io.Writer, r syncResult)       { fmt.Fprintln(w, r) }
func writeLineageResult(w io.Writer, r lineageResult) { fmt.Fprintln(w, r) }

func syncResultLine(r syncResult) string       { return fmt.Sprint(r) }
func lineageResultLine(r lineageResult) string { return fmt.Sprint(r) }

package activities_test

import (
	"testing"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
)

// Activities that run with a heartbeat timeout must heartbeat, or Temporal
// fails every attempt once the timeout passes.
func TestActivitiesHeartbeat(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	read := f.sync(t, tableauAll, 4)
	manifest := loadManifest(t, f)

	tests := []struct {
		name string
		in   any
	}{
		{activities.ListWorkbooksName, activities.ListWorkbooksInput{Selection: tableauAll}},
		{activities.ComputeExposuresName, activities.ComputeExposuresInput{Manifest: manifest, Snapshot: read.Snapshot}},
		{activities.SetLatestName, activities.SetLatestInput{Kind: store.KindManifest, Ref: manifest}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := f.env()
			beats := 0
			env.SetOnActivityHeartbeatListener(func(*activity.Info, converter.EncodedValues) { beats++ })
			if _, err := env.ExecuteActivity(tt.name, tt.in); err != nil {
				t.Fatal(err)
			}
			if beats == 0 {
				t.Errorf("%s recorded no heartbeat", tt.name)
			}
		})
	}
}

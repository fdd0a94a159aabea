package workflows

import (
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// optionTimeouts is the part of an activity's options that decides how
// long a killed worker stalls a workflow.
type optionTimeouts struct {
	StartToClose time.Duration
	Heartbeat    time.Duration
}

// A worker killed during an activity without a heartbeat timeout stalls
// the workflow until the start-to-close timeout. Every activity that may
// run longer than a minute must heartbeat, with a timeout short enough
// that a new worker takes over within about half a minute.
func TestActivityOptionsHeartbeat(t *testing.T) {
	options := map[string]func(workflow.Context) workflow.Context{
		"list workbooks": tableauListOptions,
		"read lineage":   readLineageOptions,
		"load artifacts": loadArtifactsOptions,
		"compute":        computeOptions,
		"store":          func(ctx workflow.Context) workflow.Context { return storeOptions(ctx, "store") },
		"resolve":        resolveSelectionOptions,
	}
	readOptions := func(ctx workflow.Context) (map[string]optionTimeouts, error) {
		got := map[string]optionTimeouts{}
		for name, withOptions := range options {
			o := workflow.GetActivityOptions(withOptions(ctx))
			got[name] = optionTimeouts{StartToClose: o.StartToCloseTimeout, Heartbeat: o.HeartbeatTimeout}
		}
		return got, nil
	}

	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(readOptions)
	env.ExecuteWorkflow(readOptions)
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var got map[string]optionTimeouts
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatal(err)
	}

	for name := range options {
		o := got[name]
		if o.StartToClose <= 0 {
			t.Errorf("%s: no start-to-close timeout", name)
		}
		if o.StartToClose > time.Minute && (o.Heartbeat <= 0 || o.Heartbeat > 45*time.Second) {
			t.Errorf("%s: start-to-close %s with heartbeat timeout %s; want a heartbeat timeout of at most 45s", name, o.StartToClose, o.Heartbeat)
		}
	}
}

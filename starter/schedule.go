package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones resolve the same on every machine and image

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Catch-up bounds: a sync missed while the server was down starts late
// only within the window. Temporal rejects windows under 10 seconds, and a
// window over a day would start yesterday's sync after today's.
const (
	minCatchupWindow     = time.Minute
	maxCatchupWindow     = 24 * time.Hour
	defaultCatchupWindow = 6 * time.Hour
)

// scheduleSettings are the values `schedule` writes to the schedule.
type scheduleSettings struct {
	hour, minute  int
	timeZone      string
	catchupWindow time.Duration
	// selection replaces the schedule's selection when keepSelection is
	// false.
	selection     tableau.Selection
	keepSelection bool
	// keepTime, keepTimeZone and keepCatchup keep the existing schedule's
	// values for flags not given, so a re-run that changes one setting
	// leaves the others as an operator set them.
	keepTime, keepTimeZone, keepCatchup bool
}

func runSchedule(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("schedule", "schedule [--at HH:MM] [--time-zone ZONE] [--catchup-window DURATION] [--collections A,B] [--projects P] [--workbooks LUIDS]", stderr)
	at := fs.String("at", "06:00", "time of day of the daily sync, HH:MM on a 24-hour clock in --time-zone (an existing schedule keeps its time when not given)")
	timeZone := fs.String("time-zone", "UTC", "IANA time zone of --at, such as Europe/Paris (an existing schedule keeps its zone when not given)")
	catchup := fs.Duration("catchup-window", defaultCatchupWindow, fmt.Sprintf("how late a sync missed while Temporal was down may still start, %s to %s (an existing schedule keeps its window when not given)", minCatchupWindow, maxCatchupWindow))
	var sel selectionFlags
	sel.register(fs)
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}

	hour, minute, err := parseClock(*at)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if _, err := time.LoadLocation(*timeZone); err != nil || *timeZone == "" || strings.EqualFold(*timeZone, "local") {
		return usageError(fs, "--time-zone=%q is not an IANA time zone name: use one such as UTC, Europe/Paris or America/New_York", *timeZone)
	}
	if *catchup < minCatchupWindow || *catchup > maxCatchupWindow {
		return usageError(fs, "--catchup-window=%s is out of range: use %s to %s", *catchup, minCatchupWindow, maxCatchupWindow)
	}
	flagsGiven := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { flagsGiven[f.Name] = true })
	settings := scheduleSettings{
		hour: hour, minute: minute,
		timeZone:      *timeZone,
		catchupWindow: *catchup,
		selection:     sel.selection(),
		keepSelection: !sel.given(),
		keepTime:      !flagsGiven["at"],
		keepTimeZone:  !flagsGiven["time-zone"],
		keepCatchup:   !flagsGiven["catchup-window"],
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter schedule: %v\n", err)
		return exitFailure
	}
	defer conn.Close()

	created, err := upsertSchedule(ctx, conn, settings)
	if err != nil {
		fmt.Fprintf(stderr, "starter schedule: %v\n", err)
		return exitFailure
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(stdout, "Schedule %s %s.\n", conn.env.ScheduleID, verb)
	return printSchedule(ctx, conn, stdout, stderr)
}

// parseClock reads "HH:MM" on a 24-hour clock.
func parseClock(s string) (hour, minute int, err error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	if ok {
		hour, err = strconv.Atoi(h)
		if err == nil {
			minute, err = strconv.Atoi(m)
		}
	}
	if !ok || err != nil || len(m) != 2 || hour < 0 || hour > 23 || minute < 0 || minute > 59 {
		return 0, 0, fmt.Errorf("--at=%q is not a time of day: use HH:MM on a 24-hour clock, such as 06:00 or 18:30", s)
	}
	return hour, minute, nil
}

func (s scheduleSettings) spec() client.ScheduleSpec {
	return client.ScheduleSpec{
		Calendars: []client.ScheduleCalendarSpec{{
			Hour:    []client.ScheduleRange{{Start: s.hour}},
			Minute:  []client.ScheduleRange{{Start: s.minute}},
			Comment: "daily collection sync",
		}},
		TimeZoneName: s.timeZone,
	}
}

// upsertSchedule creates the schedule, or updates it in place when it
// exists, so running `schedule` twice leaves one schedule. It reports
// whether it created one.
func upsertSchedule(ctx context.Context, conn *connection, s scheduleSettings) (bool, error) {
	schedules := conn.client.ScheduleClient()
	id := conn.env.ScheduleID

	_, err := schedules.Create(ctx, client.ScheduleOptions{
		ID:            id,
		Spec:          s.spec(),
		Action:        syncAction(conn, s.selection),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: s.catchupWindow,
		Note:          "created by starter schedule",
	})
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return false, fmt.Errorf("creating schedule %s: %w", id, err)
	}

	handle := schedules.GetHandle(ctx, id)
	err = handle.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			selection := s.selection
			if s.keepSelection {
				current, err := scheduleSelection(sched.Action)
				if err != nil {
					return nil, err
				}
				selection = current
			}
			spec := s.spec()
			if old := sched.Spec; old != nil {
				if s.keepTime {
					spec.Calendars, spec.CronExpressions, spec.Intervals = old.Calendars, old.CronExpressions, old.Intervals
				}
				if s.keepTimeZone {
					spec.TimeZoneName = old.TimeZoneName
				}
			}
			sched.Spec = &spec
			sched.Action = syncAction(conn, selection)
			if sched.Policy == nil {
				sched.Policy = &client.SchedulePolicies{CatchupWindow: s.catchupWindow}
			}
			sched.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
			if !s.keepCatchup || sched.Policy.CatchupWindow == 0 {
				sched.Policy.CatchupWindow = s.catchupWindow
			}
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return false, fmt.Errorf("updating schedule %s: %w", id, err)
	}
	return false, nil
}

// setScheduleSelection replaces the selection in the schedule's action and
// keeps everything else. A missing schedule gives an error that wraps
// *serviceerror.NotFound, so callers can create the schedule instead.
func setScheduleSelection(ctx context.Context, conn *connection, selection tableau.Selection) error {
	handle := conn.client.ScheduleClient().GetHandle(ctx, conn.env.ScheduleID)
	err := handle.Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			sched := in.Description.Schedule
			sched.Action = syncAction(conn, selection)
			return &client.ScheduleUpdate{Schedule: &sched}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("updating the selection of schedule %s: %w", conn.env.ScheduleID, err)
	}
	return nil
}

// scheduleSelection reads the selection from a schedule's action as the
// Web UI shows and edits it.
func scheduleSelection(action client.ScheduleAction) (tableau.Selection, error) {
	wa, ok := action.(*client.ScheduleWorkflowAction)
	if !ok || len(wa.Args) == 0 {
		return tableau.Selection{}, nil
	}
	payload, ok := wa.Args[0].(*commonpb.Payload)
	if !ok {
		return tableau.Selection{}, fmt.Errorf("schedule action argument is %T, not a payload", wa.Args[0])
	}
	var in syncInput
	if err := converter.GetDefaultDataConverter().FromPayload(payload, &in); err != nil {
		return tableau.Selection{}, fmt.Errorf("reading the schedule's sync input (edited by hand in the Web UI?): %w; fix it there or rerun starter schedule with --collections", err)
	}
	return in.Selection, nil
}

func printSchedule(ctx context.Context, conn *connection, stdout, stderr io.Writer) int {
	desc, err := conn.client.ScheduleClient().GetHandle(ctx, conn.env.ScheduleID).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		fmt.Fprintf(stderr, "starter: no schedule yet: run `starter schedule` to create %s\n", conn.env.ScheduleID)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(stderr, "starter: describing schedule %s: %v\n", conn.env.ScheduleID, err)
		return exitFailure
	}
	writeScheduleSummary(stdout, conn.env.ScheduleID, desc)
	return exitOK
}

func writeScheduleSummary(w io.Writer, id string, desc *client.ScheduleDescription) {
	sched := desc.Schedule
	fmt.Fprintf(w, "  schedule:  %s\n", id)
	if sched.Spec != nil {
		fmt.Fprintf(w, "  runs:      %s\n", describeSpec(*sched.Spec))
	}
	if sched.Policy != nil {
		fmt.Fprintf(w, "  policy:    overlapping runs skipped; catch-up window %s\n", sched.Policy.CatchupWindow)
	}
	if sel, err := scheduleSelection(sched.Action); err != nil {
		fmt.Fprintf(w, "  selection: unreadable: %v\n", err)
	} else {
		fmt.Fprintf(w, "  selection: %s\n", describeSelection(sel))
	}
	if sched.State != nil && sched.State.Paused {
		fmt.Fprintf(w, "  paused:    %s\n", sched.State.Note)
	}
	if len(desc.Info.NextActionTimes) > 0 {
		fmt.Fprintf(w, "  next run:  %s\n", desc.Info.NextActionTimes[0].UTC().Format(time.RFC3339))
	}
	if n := len(desc.Info.RecentActions); n > 0 {
		last := desc.Info.RecentActions[n-1]
		fmt.Fprintf(w, "  last run:  %s", last.ActualTime.UTC().Format(time.RFC3339))
		if last.StartWorkflowResult != nil {
			fmt.Fprintf(w, " (workflow %s)", last.StartWorkflowResult.WorkflowID)
		}
		fmt.Fprintln(w)
	}
}

// describeSpec renders the daily calendar this starter writes; other specs
// (edited in the Web UI) are shown by their parts.
func describeSpec(spec client.ScheduleSpec) string {
	tz := spec.TimeZoneName
	if tz == "" {
		tz = "UTC"
	}
	var times []string
	for _, c := range spec.Calendars {
		if len(c.Hour) == 1 && len(c.Minute) == 1 && c.Hour[0].End <= c.Hour[0].Start && c.Minute[0].End <= c.Minute[0].Start {
			times = append(times, fmt.Sprintf("daily at %02d:%02d", c.Hour[0].Start, c.Minute[0].Start))
			continue
		}
		times = append(times, fmt.Sprintf("calendar %+v", c))
	}
	for _, e := range spec.CronExpressions {
		times = append(times, "cron "+e)
	}
	for _, i := range spec.Intervals {
		times = append(times, "every "+i.Every.String())
	}
	if len(times) == 0 {
		return "never (no calendar)"
	}
	return strings.Join(times, ", ") + " " + tz
}

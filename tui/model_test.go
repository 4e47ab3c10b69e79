package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/words"
)

// apply sends msgs to m in order. The Cmd of a key press is run and its
// message fed back when it is a screen's result (startMsg, keyEnteredMsg,
// answerMsg, quitMsg), as the program would; other Cmds are not run.
func apply(t *testing.T, m model, msgs ...tea.Msg) (model, []tea.Cmd) {
	t.Helper()
	var cmds []tea.Cmd
	for _, msg := range msgs {
		next, cmd := m.Update(msg)
		m = next.(model)
		if _, ok := msg.(tea.KeyMsg); ok && cmd != nil {
			switch res := cmd().(type) {
			case startMsg, keyEnteredMsg, answerMsg, quitMsg:
				next, cmd = m.Update(res)
				m = next.(model)
			}
		}
		cmds = append(cmds, cmd)
	}
	return m, cmds
}

func batch(items ...any) engineBatchMsg {
	var b engineBatchMsg
	for _, it := range items {
		switch it := it.(type) {
		case migrate.Event:
			b = append(b, eventMsg{it})
		case askMsg:
			b = append(b, it)
		}
	}
	return b
}

func keyAsk(side migrate.Side, problem error) askMsg {
	return askMsg{side: side, problem: problem, reply: make(chan answer, 1)}
}

func confirmAsk(q migrate.Question) askMsg {
	return askMsg{question: &q, reply: make(chan answer, 1)}
}

func plain(m model) string { return ansi.Strip(m.View()) }

// resumedModel is a model over a recorded migration whose engine has not
// started; the tests play the engine by sending its messages.
func resumedModel(t *testing.T, next migrate.Step) model {
	t.Helper()
	f := &fake{}
	return newTestModel(t, testOptions(t.TempDir(), f, waitScript), stateAt(t, t.TempDir(), next), nil)
}

func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}

func TestLogViewKeepsTheLastLines(t *testing.T) {
	var l logView
	for i := 1; i <= 5000; i++ {
		l.add(fmt.Sprintf("line %d", i))
	}
	if l.len() != maxLogLines || l.total != 5000 {
		t.Fatalf("kept %d of %d lines, want %d of 5000", l.len(), l.total, maxLogLines)
	}
	if got := l.at(0); got != "line 4001" {
		t.Errorf("oldest kept %q, want line 4001", got)
	}
	st := testStyles()
	if got := l.view(40, 3, st); got != "line 4998\nline 4999\nline 5000" {
		t.Errorf("view:\n%s", got)
	}
	l.scroll(-10, 3)
	if got := l.view(40, 3, st); got != "line 4988\nline 4989\nline 4990" {
		t.Errorf("scrolled view:\n%s", got)
	}
	l.add("line 5001") // a window scrolled up stays put
	if got := l.view(40, 3, st); got != "line 4988\nline 4989\nline 4990" {
		t.Errorf("scrolled view after a new line:\n%s", got)
	}
	l.scroll(-5000, 3)
	if got := l.view(40, 3, st); got != "line 4002\nline 4003\nline 4004" {
		t.Errorf("top: %q, want the oldest kept line", got)
	}
	l.follow()
	if got := l.view(40, 1, st); got != "line 5001" {
		t.Errorf("following: %q", got)
	}
}

func TestLogViewCleansAndCuts(t *testing.T) {
	var l logView
	l.add("a\tb\x1b[31mred\x1b[0m\x07 " + strings.Repeat("x", 100))
	got := l.view(20, 5, testStyles())
	if strings.ContainsAny(got, "\t\x1b\x07") || ansi.StringWidth(got) > 20 {
		t.Errorf("line not cleaned or cut: %q", got)
	}
	if !strings.HasPrefix(got, "a    bred ") {
		t.Errorf("line %q", got)
	}
}

func TestKeyInputMasksAndStripsLineBreaks(t *testing.T) {
	k := newKeyModel(migrate.Source, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	k, _ = k.update(paste("DATABASE_URL=\"prisma+postgres://x/?api_key=SeCrEt\r\nKeY\"\n"), keys, words.FromEA)
	c := viewCtx{st: testStyles(), flow: words.FromEA, width: 78, height: 20}
	v := ansi.Strip(k.view(c, true))
	want := len(`DATABASE_URL="prisma+postgres://x/?api_key=SeCrEtKeY"`)
	if !strings.Contains(v, fmt.Sprintf("•••••••• (%d characters)", want)) {
		t.Errorf("view does not show the length %d:\n%s", want, v)
	}
	for _, part := range []string{"SeCrEt", "KeY", "api_key=S", "DATABASE_URL="} {
		if strings.Contains(v, part) {
			t.Errorf("view shows %q:\n%s", part, v)
		}
	}
	k, cmd := k.update(keyMsg("enter"), keys, words.FromEA)
	got, ok := cmd().(keyEnteredMsg)
	if !ok || got.value != `DATABASE_URL="prisma+postgres://x/?api_key=SeCrEtKeY"` {
		t.Fatalf("entered %q, want the .env line without its line breaks", got.value)
	}
	if k.input.Value() != "" {
		t.Error("the input still holds the key after Enter")
	}
}

func TestKeyInputEmptyAndClear(t *testing.T) {
	k := newKeyModel(migrate.Target, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	k, cmd := k.update(keyMsg("enter"), keys, words.FromEA)
	if cmd != nil || !k.empty {
		t.Fatal("Enter on an empty input was sent")
	}
	c := viewCtx{st: testStyles(), flow: words.FromEA, width: 78, height: 20}
	if v := k.view(c, true); !strings.Contains(v, "Paste a key first") {
		t.Errorf("no nudge:\n%s", v)
	}
	k, _ = k.update(keyMsg("abc"), keys, words.FromEA)
	k, _ = k.update(keyMsg("ctrl+u"), keys, words.FromEA)
	if k.input.Value() != "" {
		t.Errorf("ctrl+u left %q", k.input.Value())
	}
}

func TestKeyProblemIsShownWithoutTheKey(t *testing.T) {
	k := newKeyModel(migrate.Source, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	k, _ = k.update(paste("TopSecretKey123"), keys, words.FromEA)
	k, _ = k.update(keyMsg("enter"), keys, words.FromEA)
	problem := words.FromEA.Explain(fmt.Errorf("wrapped: %w", errors.New("no database for TopSecretKey123")))
	problem.Reprompt = "paste the key of a Prisma Postgres database"
	k.asked(&problem, false)
	v := ansi.Strip(k.view(viewCtx{st: testStyles(), flow: words.FromEA, width: 78, height: 20}, true))
	if strings.Contains(v, "TopSecret") {
		t.Errorf("the problem shows the key:\n%s", v)
	}
	if !strings.Contains(v, "no database for ••••••••") || !strings.Contains(v, "Paste the key of a Prisma") {
		t.Errorf("the problem or its hint is missing:\n%s", v)
	}
}

func TestFlowThroughTheScreens(t *testing.T) {
	m := resumedModel(t, migrate.StepConnectSource)
	if m.screen != screenStart {
		t.Fatalf("screen %d, want start", m.screen)
	}
	m, _ = apply(t, m, keyMsg("enter"))
	if !m.mig.continued || m.run == nil {
		t.Fatal("Enter on a resume summary did not start the engine")
	}
	if v := plain(m); !strings.Contains(v, "Starting…") {
		t.Errorf("no spinner while the engine starts:\n%s", v)
	}

	ask := keyAsk(migrate.Source, nil)
	m, _ = apply(t, m, batch(started(migrate.StepConnectSource, 0), ask))
	if m.screen != screenKey {
		t.Fatalf("screen %d after a key ask, want the key input", m.screen)
	}
	if v := plain(m); !strings.Contains(v, "This migration started with prisma+postgres://…3f9a") {
		t.Errorf("the key screen does not name the database to paste:\n%s", v)
	}
	m, _ = apply(t, m, paste("key-one"), keyMsg("enter"))
	if a := <-ask.reply; a.text != "key-one" {
		t.Fatalf("the engine got %q", a.text)
	}
	if v := plain(m); m.screen != screenKey || !strings.Contains(v, "Connecting to the EA database") {
		t.Errorf("no connecting spinner:\n%s", v)
	}

	q := confirmAsk(sourceQuestion)
	m, _ = apply(t, m, batch(q))
	if m.screen != screenConfirm {
		t.Fatalf("screen %d, want the source summary", m.screen)
	}
	m, _ = apply(t, m, keyMsg("enter"))
	if a := <-q.reply; !a.yes {
		t.Fatal("Enter on the source summary did not answer yes")
	}

	m, _ = apply(t, m, batch(finishedEv(migrate.StepConnectSource, &migrate.Summary{Database: testSource}, 0)))
	dumpMidway(func(e migrate.Event) { m, _ = apply(t, m, batch(e)) })
	if m.screen != screenDump {
		t.Fatalf("screen %d, want the dump", m.screen)
	}
	redump := confirmAsk(migrate.Question{Kind: migrate.ConfirmRedump, Writes: 3})
	m, _ = apply(t, m, batch(redump))
	m, _ = apply(t, m, keyMsg("enter")) // not an answer to this question
	select {
	case <-redump.reply:
		t.Fatal("Enter answered the redump question")
	default:
	}
	m, _ = apply(t, m, keyMsg("y"))
	if a := <-redump.reply; !a.yes {
		t.Fatal("y did not answer yes")
	}
	if m.screen != screenDump || !strings.Contains(plain(m), "Dumping again") {
		t.Errorf("after dump again:\n%s", plain(m))
	}
	m, _ = apply(t, m, batch(
		finishedEv(migrate.StepDump, &migrate.Summary{Dump: &migrate.DumpInfo{Path: "/x/ppg-ea-1.dump", Size: 1_200_000_000, Tables: 230, Rows: 3_400_000, SHA256: "0123456789abcdef0123"}}, 80*time.Second),
		started(migrate.StepCheckArchive, 80*time.Second)))
	if v := plain(m); !strings.Contains(v, "Dump written: /x/ppg-ea-1.dump") || !strings.Contains(v, "Checking the dump file") {
		t.Errorf("the dump's end is not shown:\n%s", v)
	}

	fail, se := failedEv(migrate.StepCheckArchive, &migrate.DumpChangedError{Path: "/x/ppg-ea-1.dump", How: migrate.DumpModified}, nil, 81*time.Second)
	m, _ = apply(t, m, batch(fail))
	m, cmds := apply(t, m, engineDoneMsg{err: se})
	if m.screen != screenFailure || isQuit(cmds[0]) {
		t.Fatalf("screen %d, want the failure to stay", m.screen)
	}
	if v := plain(m); !strings.Contains(v, "Check the dump file failed") || !strings.Contains(v, "Run ppg migrate-from-ea again to dump again") {
		t.Errorf("failure:\n%s", v)
	}
	_, cmds = apply(t, m, keyMsg("q"))
	if !isQuit(cmds[0]) {
		t.Error("q on the failure screen does not quit")
	}
}

func TestStartOver(t *testing.T) {
	m := resumedModel(t, migrate.StepRestore)
	m, _ = apply(t, m, keyMsg("s"))
	if !m.startScreen().confirmRestart || m.run != nil {
		t.Fatal("s did not ask to confirm")
	}
	m, _ = apply(t, m, keyMsg("n"))
	if m.startScreen().confirmRestart || m.mig.continued {
		t.Fatal("n did not go back to the choices")
	}
	m, _ = apply(t, m, keyMsg("s"), keyMsg("y"))
	if !m.mig.continued || m.run == nil {
		t.Fatal("y did not start over")
	}
}

func TestUnusableStateOffersStartOverOnly(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, waitScript), nil, migrate.ErrStateVersion)
	m, _ = apply(t, m, keyMsg("enter"))
	if m.mig.continued {
		t.Fatal("Enter continued a migration whose state cannot be read")
	}
	v := plain(m)
	if !strings.Contains(v, "cannot be used") || strings.Contains(v, "enter continue") || !strings.Contains(v, "s start over") {
		t.Errorf("view:\n%s", v)
	}
}

func TestCtrlCAsksWhileTheEngineRuns(t *testing.T) {
	m := resumedModel(t, migrate.StepDump)
	m, _ = apply(t, m, keyMsg("enter"), batch(started(migrate.StepDump, 0)))
	m, _ = apply(t, m, keyMsg("ctrl+c"))
	if !m.stop.asking || !strings.Contains(plain(m), "Stop the migration? Progress is saved") {
		t.Fatalf("ctrl+c did not ask:\n%s", plain(m))
	}
	m, _ = apply(t, m, keyMsg("n"))
	if m.stop.asking || m.stop.stopping {
		t.Fatal("n did not go on")
	}
	m, _ = apply(t, m, keyMsg("ctrl+c"), keyMsg("y"))
	if !m.stop.stopping || m.run.ctx.Err() == nil {
		t.Fatal("y did not cancel the engine")
	}
	if v := plain(m); !strings.Contains(v, "Stopping…") {
		t.Errorf("no stopping line:\n%s", v)
	}
	m, cmds := apply(t, m, keyMsg("q"), batch(lineEv(migrate.StepDump, "x")))
	if isQuit(cmds[0]) || m.mig.exited {
		t.Fatal("quit before the engine returned")
	}
	_, cmds = apply(t, m, engineDoneMsg{err: context.Canceled})
	if !isQuit(cmds[0]) {
		t.Fatal("no quit after the engine returned")
	}
}

func TestCtrlCTwiceStops(t *testing.T) {
	m := resumedModel(t, migrate.StepDump)
	m, _ = apply(t, m, keyMsg("enter"), keyMsg("ctrl+c"), keyMsg("ctrl+c"))
	if !m.stop.stopping {
		t.Fatal("a second ctrl+c did not stop")
	}
}

func TestCtrlCQuitsWhenNothingRuns(t *testing.T) {
	m := resumedModel(t, migrate.StepDump)
	if _, cmds := apply(t, m, keyMsg("ctrl+c")); !isQuit(cmds[0]) {
		t.Error("ctrl+c on the resume summary does not quit")
	}
	if _, cmds := apply(t, m, keyMsg("q")); !isQuit(cmds[0]) {
		t.Error("q on the resume summary does not quit")
	}
}

func TestQuitOnFreshStartStopsTheEngine(t *testing.T) {
	f := &fake{}
	m := newTestModel(t, testOptions(t.TempDir(), f, waitScript), nil, nil)
	m, cmds := apply(t, m, keyMsg("q"))
	if isQuit(cmds[0]) || !m.stop.stopping || m.run.ctx.Err() == nil {
		t.Fatal("q must stop the running engine and wait for it")
	}
}

func TestSignalStops(t *testing.T) {
	m := resumedModel(t, migrate.StepDump)
	m, _ = apply(t, m, keyMsg("enter"), parentDoneMsg{})
	if !m.stop.stopping {
		t.Fatal("the end of Run's ctx did not stop")
	}
}

func TestNonEmptyTargetNeedsYes(t *testing.T) {
	m := resumedModel(t, migrate.StepConnectTarget)
	q := confirmAsk(nonEmptyQuestion)
	m, _ = apply(t, m, keyMsg("enter"), batch(started(migrate.StepConnectTarget, 0), q))
	m, _ = apply(t, m, keyMsg("y"), keyMsg("enter"))
	select {
	case <-q.reply:
		t.Fatal("y and Enter restored into a target that is not empty")
	default:
	}
	if !strings.Contains(plain(m), "Type yes to go on") {
		t.Errorf("no nudge:\n%s", plain(m))
	}
	m, _ = apply(t, m, keyMsg("n")) // n types, it does not refuse
	select {
	case <-q.reply:
		t.Fatal("n answered")
	default:
	}
	m, _ = apply(t, m, keyMsg("backspace"), keyMsg("backspace"), keyMsg("yes"), keyMsg("enter"))
	if a := <-q.reply; !a.yes {
		t.Fatal("yes+Enter did not answer yes")
	}

	q2 := confirmAsk(nonEmptyQuestion)
	_, _ = apply(t, m, batch(q2), keyMsg("esc"))
	if a := <-q2.reply; a.yes {
		t.Fatal("Esc answered yes")
	}
}

func TestVerifyFailureKeepsTheTable(t *testing.T) {
	m := resumedModel(t, migrate.StepVerify)
	info := ev(migrate.Report, migrate.StepVerify, time.Second)
	info.Report = report(true)
	fail, se := failedEv(migrate.StepVerify, &migrate.VerifyError{Mismatches: info.Report.Mismatches}, nil, time.Second)
	m, _ = apply(t, m, keyMsg("enter"), batch(started(migrate.StepVerify, 0), info, fail), engineDoneMsg{err: se})
	if m.screen != screenVerify {
		t.Fatalf("screen %d, want the verify table", m.screen)
	}
	v := plain(m)
	if !strings.Contains(v, "≠ public.table_017") || !strings.Contains(v, "17,980") {
		t.Errorf("the mismatch is not listed first:\n%s", v)
	}
	m, _ = apply(t, m, keyMsg("down"), keyMsg("down"))
	if m.verifyScreen().table.YOffset != 2 {
		t.Errorf("offset %d after two downs", m.verifyScreen().table.YOffset)
	}
	for range 10 {
		m, _ = apply(t, m, keyMsg("pgdown"))
	}
	if v := plain(m); !strings.Contains(v, "public.table_029") {
		t.Errorf("paging down does not reach the last table:\n%s", v)
	}
	if _, cmds := apply(t, m, keyMsg("q")); !isQuit(cmds[0]) {
		t.Error("q does not quit")
	}
}

func TestDoneAfterSuccess(t *testing.T) {
	m := resumedModel(t, migrate.StepVerify)
	m, cmds := apply(t, m, keyMsg("enter"), batch(started(migrate.StepVerify, 0), finishedEv(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 30, Rows: 30, Sequences: 2}}, 0)), engineDoneMsg{})
	if m.screen != screenDone || cmds[2] == nil {
		t.Fatalf("screen %d, want done and a read of the state", m.screen)
	}
	if v := plain(m); !strings.Contains(v, "30 tables and 30 rows match") || !strings.Contains(v, "DATABASE_URL") {
		t.Errorf("done:\n%s", v)
	}
}

func TestLockedFolderFails(t *testing.T) {
	m := resumedModel(t, migrate.StepDump)
	m, _ = apply(t, m, keyMsg("enter"), engineDoneMsg{err: migrate.ErrLocked})
	if m.screen != screenFailure || !strings.Contains(plain(m), "could not start") {
		t.Errorf("screen %d:\n%s", m.screen, plain(m))
	}
}

func TestWarningsToggle(t *testing.T) {
	m := resumedModel(t, migrate.StepRestore)
	m, _ = apply(t, m, keyMsg("enter"), batch(started(migrate.StepRestore, 0)))
	if k := m.screens[screenRestore].helpKeys(m.screenCtx()).(progressKeys); k.Warnings.Enabled() {
		t.Error("w is offered without warnings")
	}
	m, _ = apply(t, m, batch(noticeEv(migrate.Warning, migrate.StepRestore, migrate.Notice{Code: migrate.NoticeHarmlessError, Cause: "harmless thing", Harmless: migrate.HarmlessResumed}, 0)), keyMsg("w"))
	if v := plain(m); !m.screens[screenRestore].(*progressModel).showWarn || !strings.Contains(v, "Warnings (1)") || !strings.Contains(v, "! harmless thing") {
		t.Errorf("w did not show the warnings:\n%s", v)
	}
	m, _ = apply(t, m, keyMsg("w"))
	if m.screens[screenRestore].(*progressModel).showWarn {
		t.Error("w did not go back to the log")
	}
}

func TestSmallWindowsDoNotOverflow(t *testing.T) {
	m := resumedModel(t, migrate.StepVerify)
	info := ev(migrate.Report, migrate.StepVerify, 0)
	info.Report = report(true)
	for _, size := range [][2]int{{80, 24}, {40, 12}, {20, 5}} {
		for _, msgs := range [][]tea.Msg{
			nil,
			{keyMsg("enter"), batch(started(migrate.StepRestore, 0), progressEv(migrate.StepRestore, migrate.ProgressInfo{Phase: migrate.PhaseData, TablesTotal: 3, Current: strings.Repeat("public.long_name_", 10)}, 0))},
			{keyMsg("enter"), batch(started(migrate.StepVerify, 0), info), keyMsg("ctrl+c")},
		} {
			mm, _ := apply(t, m, append([]tea.Msg{tea.WindowSizeMsg{Width: size[0], Height: size[1]}}, msgs...)...)
			checkFits(t, mm.View(), max(size[0], minWidth), max(size[1], minHeight))
		}
	}
}

func TestPrompter(t *testing.T) {
	msgs := make(chan tea.Msg, 1)
	p := prompter{msgs: msgs}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		a := (<-msgs).(askMsg)
		if a.side != migrate.Target || a.problem == nil {
			t.Errorf("ask %+v", a)
		}
		a.reply <- answer{text: "k"}
	}()
	if k, err := p.Key(ctx, migrate.Target, errors.New("refused")); k != "k" || err != nil {
		t.Fatalf("Key = %q, %v", k, err)
	}
	go func() {
		a := (<-msgs).(askMsg)
		if a.question == nil || a.question.Kind != migrate.ConfirmRedump {
			t.Errorf("ask %+v", a)
		}
		cancel() // no answer: the user stopped
	}()
	if _, err := p.Confirm(ctx, migrate.Question{Kind: migrate.ConfirmRedump}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Confirm after cancel: %v", err)
	}
	if _, err := p.Key(ctx, migrate.Source, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Key on a cancelled ctx: %v", err)
	}
}

func TestWaitForEngineKeepsOrder(t *testing.T) {
	r := newRunner(t.Context())
	want := errors.New("boom")
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.start(func(ctx context.Context, _ bool, p migrate.Prompter, emit func(migrate.Event)) error {
			for i := range 300 {
				emit(lineEv(migrate.StepDump, fmt.Sprint(i)))
			}
			return want
		}, false)()
	}()
	var got []string
	for {
		msg := waitForEngine(r)()
		if d, ok := msg.(engineDoneMsg); ok {
			if d.err != want {
				t.Errorf("result %v", d.err)
			}
			break
		}
		b := msg.(engineBatchMsg)
		if len(b) > maxBatch {
			t.Fatalf("batch of %d", len(b))
		}
		for _, it := range b {
			got = append(got, it.(eventMsg).ev.Line)
		}
	}
	<-done
	for i, l := range got {
		if l != fmt.Sprint(i) {
			t.Fatalf("line %d is %q: out of order", i, l)
		}
	}
	if len(got) != 300 {
		t.Fatalf("%d lines", len(got))
	}
}

func TestEmitDoesNotBlockAfterCancel(t *testing.T) {
	r := newRunner(t.Context())
	r.cancel()
	for range eventBuffer + 10 {
		r.emit(lineEv(migrate.StepDump, "x")) // nobody reads
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{words.Bytes(999), "999 B"},
		{words.Bytes(1_234_567_890), "1.2 GB"},
		{formatCount(0), "0"},
		{formatCount(1234567), "1,234,567"},
		{formatCount(-1000), "-1,000"},
		{words.Duration(4500 * time.Millisecond), "5s"},
		{words.Duration(185 * time.Second), "3m05s"},
		{words.Duration(3720 * time.Second), "1h02m"},
		{formatClock(base, base.Add(time.Hour)), "10:30"},
		{formatClock(base, base.Add(24*time.Hour)), "Mar 14 10:30"},
		{wrap("run ppg migrate-from-ea --restart now", 20, ""), "run ppg\nmigrate-from-ea\n--restart now"},
		{wrap(strings.Repeat("x", 25), 10, "  "), "  xxxxxxxxxx\n  xxxxxxxxxx\n  xxxxx"},
		{words.Plural(1, "place", "places"), "1 place"},
		{dirFlag("."), ""},
		{dirFlag("/a b"), ` --dir "/a b"`},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestRunnerAbandonedBeforeItBegan(t *testing.T) {
	r := newRunner(t.Context())
	if r.abandon() {
		t.Fatal("a run that never began is reported as begun")
	}
	ran := false
	r.start(func(context.Context, bool, migrate.Prompter, func(migrate.Event)) error { ran = true; return nil }, false)()
	if ran {
		t.Fatal("an abandoned run began")
	}
	if d, ok := waitForEngine(r)().(engineDoneMsg); !ok || !errors.Is(d.err, context.Canceled) {
		t.Fatalf("waitForEngine on an abandoned run: %#v", d)
	}
}

func TestDeclinedSource(t *testing.T) {
	m := resumedModel(t, migrate.StepConnectSource)
	fail, _ := failedEv(migrate.StepConnectSource, migrate.ErrDeclined, nil, 0)
	m, _ = apply(t, m, keyMsg("enter"), batch(fail))
	v := plain(m)
	if !strings.Contains(v, "Stopped at your request") || !strings.Contains(v, "nothing was changed") {
		t.Errorf("declined:\n%s", v)
	}
}

func TestRestartOptionSkipsTheSummary(t *testing.T) {
	dir := t.TempDir()
	f := &fake{}
	opts := testOptions(dir, f, func(ctx context.Context, p migrate.Prompter, emit func(migrate.Event)) error {
		checkTools(emit)
		return waitCtx(ctx)
	})
	opts.Restart = true
	m := newTestModel(t, opts, stateAt(t, dir, migrate.StepRestore), nil)
	h := start(t, m, 80, 24)
	h.wait("pg_restore 17.2")
	fm := h.final()
	if v := plain(fm); strings.Contains(v, "Next:") || !strings.Contains(v, "Press Enter to begin") {
		t.Errorf("start screen with Restart:\n%s", v)
	}
	if s := f.snapshot(); s.runs != 1 || !s.restart {
		t.Errorf("runs %d restart %v, want the engine started over at once", s.runs, s.restart)
	}
}

// BenchmarkToolLines measures a large dump's lines through Update and View,
// in the engine's batches.
func BenchmarkToolLines(b *testing.B) {
	f := &fake{}
	m := newModel(context.Background(), testOptions(b.TempDir(), f, waitScript), testStyles(), stateAt(b, "", migrate.StepDump), nil)
	next, _ := m.Update(keyMsg("enter"))
	m = next.(model)
	next, _ = m.Update(batch(started(migrate.StepDump, 0)))
	m = next.(model)
	line := eventMsg{lineEv(migrate.StepDump, `pg_dump: dumping contents of table "public.some_table_with_a_name"`)}
	msg := make(engineBatchMsg, maxBatch)
	for i := range msg {
		msg[i] = line
	}
	b.ResetTimer()
	for range b.N {
		next, _ := m.Update(msg)
		m = next.(model)
		_ = m.View()
	}
	b.ReportMetric(float64(b.N*maxBatch)/b.Elapsed().Seconds(), "lines/s")
}

func TestDoneScrollsAtAnySize(t *testing.T) {
	m := resumedModel(t, migrate.StepVerify)
	rep := ev(migrate.Report, migrate.StepVerify, 0)
	rep.Report = report(false)
	fin := finishedEv(migrate.StepVerify, &migrate.Summary{Verified: &migrate.VerifySummary{Tables: 30, Rows: 465_000, Sequences: 41, TargetVersion: 170002}}, 0)
	m, _ = apply(t, m, tea.WindowSizeMsg{Width: 60, Height: 15}, keyMsg("enter"), batch(started(migrate.StepVerify, 0), rep, fin), engineDoneMsg{})
	if m.screen != screenDone {
		t.Fatalf("screen %d, want done", m.screen)
	}
	checkFits(t, m.View(), 60, 15)
	seen := plain(m)
	for range 20 {
		m, _ = apply(t, m, keyMsg("pgdown"))
		seen += plain(m)
	}
	for _, want := range []string{"public.table_029", "PostgreSQL 17.2", migrate.VerifyFileName, "DATABASE_URL"} {
		if !strings.Contains(seen, want) {
			t.Errorf("scrolling the done screen at 60x15 never shows %q", want)
		}
	}
	checkFits(t, m.View(), 60, 15)
}

func TestKeyInputTakesTheKeyLineOfAnEnvPaste(t *testing.T) {
	k := newKeyModel(migrate.Source, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	env := "# generated\nDIRECT_URL=\"postgres://u:p@h/db\"\nDATABASE_URL=\"prisma+postgres://accelerate.prisma-data.net/?api_key=abc\"\n"
	k, _ = k.update(paste(env), keys, words.FromEA)
	k, cmd := k.update(keyMsg("enter"), keys, words.FromEA)
	got, ok := cmd().(keyEnteredMsg)
	if !ok || got.value != `prisma+postgres://accelerate.prisma-data.net/?api_key=abc` {
		t.Fatalf("entered %q, want the DATABASE_URL line's value", got.value)
	}
}

// A paste of .env lines none of which holds the key is refused, and says
// so: it is never cut to its first line (issue 16).
func TestKeyInputRefusesAnEnvPasteWithoutItsKey(t *testing.T) {
	k := newKeyModel(migrate.Source, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	env := "DIRECT_URL=\"postgres://u:p@h/db\"\r\nSHADOW_DATABASE_URL=\"postgres://u:p@h/shadow\"\r\n"
	k, cmd := k.update(paste(env), keys, words.FromEA)
	if cmd != nil || k.input.Value() != "" {
		t.Fatalf("the paste was taken: %d characters", len(k.input.Value()))
	}
	v := strings.Join(strings.Fields(ansi.Strip(k.view(viewCtx{st: testStyles(), flow: words.FromEA, width: 78, height: 20}, true))), " ")
	if !strings.Contains(v, "2 lines of a .env file, and none is PDP_API_KEY or DATABASE_URL") || !strings.Contains(v, "Nothing was sent") {
		t.Errorf("no clear answer:\n%s", v)
	}
}

func TestKeyInputRefusesAHugePaste(t *testing.T) {
	k := newKeyModel(migrate.Source, nil)
	k.asked(nil, false)
	keys := newKeyMaps().input
	k, cmd := k.update(paste(strings.Repeat("x", 200_000)), keys, words.FromEA)
	if cmd != nil || k.input.Value() != "" {
		t.Fatal("a 200,000-character paste was taken")
	}
	v := ansi.Strip(k.view(viewCtx{st: testStyles(), flow: words.FromEA, width: 78, height: 20}, true))
	if !strings.Contains(v, "200000 characters") || !strings.Contains(v, "Nothing was sent") {
		t.Errorf("no clear answer:\n%s", v)
	}
}

// A resumed restore (or verify) asks for its key after it started: once
// the key is taken and the work begins, the step's own screen shows, not
// the key prompt's "Connecting…".
func TestResumedStepShowsItsWorkAfterTheKey(t *testing.T) {
	for _, c := range []struct {
		step migrate.Step
		side migrate.Side
		want screen
	}{
		{migrate.StepRestore, migrate.Target, screenRestore},
		{migrate.StepVerify, migrate.Source, screenVerify},
	} {
		m := resumedModel(t, c.step)
		m, _ = apply(t, m, keyMsg("enter"))
		ask := keyAsk(c.side, nil)
		m, _ = apply(t, m, batch(started(c.step, 0), ask))
		if m.screen != screenKey {
			t.Fatalf("%s: screen %d after the key ask, want the key input", c.step, m.screen)
		}
		m, _ = apply(t, m, paste("key-one"), keyMsg("enter"))
		<-ask.reply
		if m.screen != screenKey {
			t.Fatalf("%s: screen %d while connecting, want the key input", c.step, m.screen)
		}
		m, _ = apply(t, m, batch(progressEv(c.step, migrate.ProgressInfo{TablesDone: 1, TablesTotal: 4}, time.Second)))
		if m.screen != c.want {
			t.Errorf("%s: screen %d once the work began, want %d:\n%s", c.step, m.screen, c.want, plain(m))
		}
	}
}

// Between Enter on a key and the root handing it to the engine, the key
// screen no longer shows the input: a paste then would go nowhere, and a
// screen that still said "paste here" would invite it. Keys are ignored
// until the engine's next question, which shows the input again.
func TestKeyHandedShowsNoInputUntilTheNextQuestion(t *testing.T) {
	m := resumedModel(t, migrate.StepConnectSource)
	m, _ = apply(t, m, keyMsg("enter"))
	m, _ = apply(t, m, batch(started(migrate.StepConnectSource, 0), keyAsk(migrate.Source, nil)))
	m, _ = apply(t, m, paste(secret))
	// The Enter alone, its keyEnteredMsg not yet delivered.
	next, cmd := m.Update(keyMsg("enter"))
	m = next.(model)
	if cmd == nil {
		t.Fatal("Enter on a pasted key sent nothing")
	}
	v := plain(m)
	if strings.Contains(v, "paste here") || strings.Contains(v, "characters)") {
		t.Errorf("after Enter the screen still invites a paste:\n%s", v)
	}
	if !strings.Contains(v, "Connecting to the EA database") {
		t.Errorf("after Enter the screen does not say it connects:\n%s", v)
	}
	m, _ = apply(t, m, paste("another"))
	if got := m.screens[screenKey].(*keyScreen).ea.input.Value(); got != "" {
		t.Errorf("a paste after Enter was taken: %q", got)
	}
	entered, ok := cmd().(keyEnteredMsg)
	if !ok || entered.value != secret {
		t.Fatalf("Enter handed %v, want the pasted key", cmd())
	}
	next, _ = m.Update(entered)
	m = next.(model)
	// The engine asks again (a refused key): the input shows and takes keys.
	m, _ = apply(t, m, batch(keyAsk(migrate.Source, errors.New("refused"))))
	m, _ = apply(t, m, paste("abc"))
	if v := plain(m); !strings.Contains(v, "•••••••• (3 characters)") {
		t.Errorf("the asked-again input does not take a paste:\n%s", v)
	}
}

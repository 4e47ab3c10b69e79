package tui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/tunnel"
	"github.com/ppg-cli/ppg/words"
)

// mask stands for the key on screen, whatever its length: nothing of the
// key is ever drawn, only how many characters it has.
const mask = "••••••••"

// keyModel asks for one side's key. The textinput collects what is typed
// or pasted (bracketed paste arrives as one message, however long) but is
// never drawn: the view shows the mask and the length.
type keyModel struct {
	side  migrate.Side
	input textinput.Model
	// problem is why the engine refused the previous key.
	problem string
	// empty is set by Enter on an empty input.
	empty bool
	// sent is the key last handed to the engine, kept only until its
	// answer, to scrub it from the engine's reply (defence in depth: the
	// engine's errors do not quote keys).
	sent string
	// handed is set from Enter (or ctrl+l) until the engine's next
	// question: the answer is on its way, so the input no longer shows
	// and takes no keys (a paste then would be lost unseen).
	handed bool
	// status says what the engine does while no key is asked.
	status string
	// note is the latest Info or Warning of the connect step.
	note string
	// started names the database a resumed migration started with.
	started string
	// tries counts the keys asked for.
	tries int
	// early is set when the key is asked before it is needed.
	early bool
	// previous names the database of the migration the user started
	// over, which a new key may or may not be; other is set when the key
	// last sent is not that database's.
	previous string
	other    bool
	// from says where the key in the input came from, when a paste was
	// a .env file.
	from string
}

// isOther reports whether key v names another database than the one of
// the migration started over (as the state file displays it).
func (k keyModel) isOther(v string) bool {
	if k.previous == "" {
		return false
	}
	c, err := tunnel.ParseKey(v)
	return err == nil && c.String() != k.previous
}

func newKeyModel(side migrate.Side, state *migrate.State) keyModel {
	ti := textinput.New()
	ti.Prompt = ""
	ti.EchoMode = textinput.EchoNone
	ti.CharLimit = 0
	ti.KeyMap.Paste.SetEnabled(false) // terminals paste with bracketed paste; no clipboard access
	ti.Cursor.SetMode(cursor.CursorHide)
	k := keyModel{side: side, input: ti}
	if state != nil {
		if db := state.Source; side == migrate.Source && db != nil {
			k.started = db.Display
		}
		if db := state.Target; side == migrate.Target && db != nil {
			k.started = db.Display
		}
	}
	return k
}

// keyScreen asks for the keys: one input a side, the side on show given
// by the root (the one asked for, else the one being connected).
type keyScreen struct {
	ea, ga keyModel
}

func newKeyScreen(state *migrate.State) *keyScreen {
	return &keyScreen{ea: newKeyModel(migrate.Source, state), ga: newKeyModel(migrate.Target, state)}
}

func (s *keyScreen) of(side migrate.Side) *keyModel {
	if side == migrate.Target {
		return &s.ga
	}
	return &s.ea
}

func (s *keyScreen) update(msg tea.Msg, c viewCtx) tea.Cmd {
	switch msg := msg.(type) {
	case askMsg:
		if msg.question == nil {
			var f *words.Failure
			if msg.problem != nil {
				x := c.flow.Explain(msg.problem)
				f = &x
			}
			s.of(msg.side).asked(f, msg.early)
		}
	case keyLaterMsg:
		if c.ask != nil {
			s.of(c.ask.side).setStatus("You will paste it when it is needed, after the dump.")
		}
	case answerMsg:
		s.answered(msg, c)
	case startOverMsg:
		s.startOver(msg.old)
	case tea.KeyMsg:
		if c.ask == nil || c.ask.question != nil {
			return nil
		}
		keys := c.keys.input
		keys.Later.SetEnabled(c.ask.early)
		k := s.of(c.ask.side)
		if k.handed {
			return nil
		}
		var cmd tea.Cmd
		*k, cmd = k.update(msg, keys, c.flow)
		return cmd
	}
	return nil
}

// answered says what the engine does after an answer, while no key is
// asked.
func (s *keyScreen) answered(a answerMsg, c viewCtx) {
	switch {
	case a.kind == migrate.ConfirmSource && a.yes:
		s.ea.setStatus("Starting the dump…")
	case (a.kind == migrate.ConfirmNonEmptyTarget || a.kind == migrate.ConfirmResetTarget) && a.yes:
		s.ga.setStatus("Starting the restore…")
	case a.kind == migrate.ConfirmRedump, a.kind == migrate.ConfirmSourceChanged:
		// Either answer goes on.
	case !a.yes:
		s.of(c.side).setStatus("Stopping…")
	}
}

// startOver forgets the keys of the migration old (nil when its record
// could not be read) that the user started over: any database will do
// now, and the target it used is named so that another one is noticed.
func (s *keyScreen) startOver(old *migrate.State) {
	s.ea.started, s.ga.started = "", ""
	if old == nil {
		return
	}
	switch {
	case old.Target != nil:
		s.ga.previous = old.Target.Display
	case old.Previous != nil:
		s.ga.previous = old.Previous.Display
	}
}

// event shows the connect steps' summaries and notes.
func (s *keyScreen) event(ev migrate.Event, c viewCtx) {
	var k *keyModel
	switch ev.Step {
	case migrate.StepConnectSource:
		k = &s.ea
	case migrate.StepConnectTarget:
		k = &s.ga
	default:
		return
	}
	switch ev.Kind {
	case migrate.StepFinished:
		sum := ev.Summary
		if sum == nil {
			sum = &migrate.Summary{}
		}
		k.connected(c.flow.Summary(ev.Step, sum))
	case migrate.Info, migrate.Warning:
		k.setNote(noticeText(ev, c.flow))
	default:
		// A connect step has no progress, lines or report to show.
	}
}

func (s *keyScreen) view(c viewCtx) string {
	k := s.of(c.side)
	return k.view(c, c.ask != nil && !k.handed)
}

func (s *keyScreen) helpKeys(c viewCtx) help.KeyMap {
	k := c.keys.input
	asking := c.ask != nil && !s.of(c.side).handed
	k.Later.SetEnabled(asking && c.ask.early)
	if !asking {
		k.Submit.SetEnabled(false)
		k.Clear.SetEnabled(false)
	}
	return k
}

func (s *keyScreen) setSize(viewCtx) {}

// asked readies the input for a new key; problem says why the last one was
// refused (nil on the first ask).
func (k *keyModel) asked(problem *words.Failure, early bool) {
	k.tries++
	k.early = early
	k.problem, k.status, k.empty = "", "", false
	if problem != nil {
		k.problem = problem.Headline
		if problem.Reprompt != "" {
			k.problem += ". " + words.Capitalize(problem.Reprompt) + "."
		}
		if k.sent != "" {
			k.problem = strings.ReplaceAll(k.problem, k.sent, mask)
		}
	}
	k.sent, k.handed = "", false
	k.input.Reset()
	k.input.Focus()
}

// connected records the connect step's summary.
func (k *keyModel) connected(text string) { k.status = "Connected: " + text }

// setStatus says what the engine does while no key is asked.
func (k *keyModel) setStatus(text string) { k.status = text }

// setNote shows the latest Info or Warning of the connect step.
func (k *keyModel) setNote(text string) { k.note = text }

func (k keyModel) update(msg tea.KeyMsg, keys inputKeys, flow words.Flow) (keyModel, tea.Cmd) {
	switch {
	case key.Matches(msg, keys.Submit) && !msg.Paste:
		v := normalizeKey(k.input.Value())
		if v == "" {
			k.empty = true
			return k, nil
		}
		if n := len([]rune(v)); n > maxKeyLength {
			k.input.Reset()
			k.problem = tooLong(n)
			return k, nil
		}
		k.sent, k.handed = v, true
		k.input.Reset()
		k.input.Blur()
		k.problem, k.empty, k.from = "", false, ""
		k.status = "Connecting to the " + flow.Side(k.side) + "…"
		k.other = k.isOther(v)
		if k.other {
			k.status += " It is not the database of the migration you started over (" + k.previous + "): the new migration goes there."
		}
		entered := keyEnteredMsg{value: v}
		if k.other {
			entered.other = k.previous
		}
		return k, send(entered)
	case key.Matches(msg, keys.Clear):
		k.input.Reset()
		k.from = ""
		return k, nil
	case key.Matches(msg, keys.Later):
		k.input.Reset()
		k.input.Blur()
		k.handed = true
		return k, send(keyLaterMsg{})
	}
	if msg.Type == tea.KeyRunes {
		if n := len(msg.Runes); n > maxKeyLength {
			// Not sent anywhere, not even kept: say what it was.
			k.problem = tooLong(n)
			return k, nil
		}
		k.from = ""
		if msg.Paste {
			// A pasted .env file gives its key's value; a key copied
			// from a terminal or a wrapped .env line may hold line
			// breaks, which are not part of it.
			p := readPaste(string(msg.Runes))
			if p.bad {
				k.input.Reset()
				k.problem = fmt.Sprintf("The paste holds %d lines of a .env file, and none is PDP_API_KEY or DATABASE_URL. Nothing was sent. Paste only the key, or its line", p.lines)
				return k, nil
			}
			if p.from != "" {
				k.input.Reset()
				k.from = fmt.Sprintf("the %s line of the %d pasted", p.from, p.lines)
			}
			msg.Runes = []rune(p.key)
		}
		msg.Runes = stripBreaks(msg.Runes)
		if len(msg.Runes) == 0 {
			return k, nil
		}
	}
	k.empty = false
	var cmd tea.Cmd
	k.input, cmd = k.input.Update(msg)
	return k, cmd
}

// maxKeyLength bounds what is taken as a key: Prisma's keys and URLs are a
// few hundred characters, a whole file pasted by mistake is far more.
const maxKeyLength = 16 << 10

func tooLong(n int) string {
	return fmt.Sprintf("That was %d characters: far longer than a key or URL (a few hundred). Nothing was sent. Paste only the key, or its DATABASE_URL line", n)
}

// envPaste is what a paste of several lines holds: the key of a .env
// file (tunnel's reader picks it, as ppg tunnel reads .env), or a key
// that a terminal wrapped, whose lines are joined.
type envPaste struct {
	key   string // the key, or the joined lines
	from  string // the variable the key came from; "" for joined lines
	lines int    // the lines of the .env file
	bad   bool   // a .env file without a key's line
}

// readPaste reads a paste of several lines. Two lines or more that are
// assignments or comments make a .env file: its PDP_API_KEY, else its
// DATABASE_URL; one without either is refused, never cut to a line.
func readPaste(paste string) envPaste {
	text := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(paste)
	lines := strings.FieldsFunc(text, func(r rune) bool { return r == '\n' })
	vars := tunnel.ParseDotenv(text)
	envLike := len(vars)
	for _, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			envLike++
		}
	}
	if envLike < 2 {
		return envPaste{key: string(stripBreaks([]rune(paste)))}
	}
	name, v, ok := tunnel.DotenvKey(vars)
	if !ok {
		return envPaste{lines: len(lines), bad: true}
	}
	return envPaste{key: v, from: name, lines: len(lines)}
}

func stripBreaks(rs []rune) []rune {
	out := rs[:0:0]
	for _, r := range rs {
		if r != '\n' && r != '\r' {
			out = append(out, r)
		}
	}
	return out
}

// normalizeKey drops line breaks and surrounding blanks.
func normalizeKey(s string) string {
	s = strings.NewReplacer("\r", "", "\n", "").Replace(s)
	return strings.TrimSpace(s)
}

// view draws the question, the masked input and the engine's answer; while
// no key is asked (connecting) it shows what the engine does. The input
// and what is said about it always show: in a low window the explanations
// above them give way, cut with "…".
func (k keyModel) view(c viewCtx, asking bool) string {
	st, w := c.st, c.width
	var lower string
	if asking {
		lower = k.inputView(c)
	} else {
		lower = k.statusView(c)
	}
	long := c.flow.SourceLong
	if k.side == migrate.Target {
		long = c.flow.TargetLong
	}
	head := paint(st.Heading, wrap("Paste the key of your "+long, w, ""))
	about := k.aboutView(c, asking)
	room := c.height - height(head) - height(lower) - 2
	if lines := strings.Split(about, "\n"); len(lines) > room {
		if room < 1 {
			return head + "\n\n" + lower
		}
		lines = lines[:room]
		lines[room-1] = fitWidth(ansi.Strip(lines[room-1])+" …", w)
		about = paint(st.Subtle, strings.Join(lines, "\n"))
	}
	return head + "\n\n" + about + "\n\n" + lower
}

// aboutView says what to paste, and which database it must be.
func (k keyModel) aboutView(c viewCtx, asking bool) string {
	st, w := c.st, c.width
	var b []string
	if k.side == migrate.Target {
		if k.started == "" && k.previous == "" {
			b = append(b, wrap("It must be a different, new database: the "+c.flow.SourceShort+" data is restored into it. An empty database is best.", w, ""))
		}
		if k.early && asking {
			b = append(b, wrap("With both databases known, ppg checks the plan before the dump. No key yet? Press ctrl+l and paste it after the dump.", w, ""))
		}
	}
	b = append(b, paint(st.Subtle, wrap("The API key, the DATABASE_URL value (prisma+postgres://…?api_key=…), a line of your .env file, or a direct postgres:// URL. It is never shown and never saved.", w, "")))
	switch {
	case k.started != "":
		b = append(b, paint(st.Subtle, wrap("This migration started with "+k.started+": paste the same key.", w, "")))
	case k.previous != "":
		b = append(b, paint(st.Subtle, wrap("The migration you started over used "+k.previous+": paste its key to use it again, or another database's key.", w, "")))
	}
	return strings.Join(b, "\n")
}

// statusView shows what the engine does with the key sent.
func (k keyModel) statusView(c viewCtx) string {
	st, w := c.st, c.width
	status := k.status
	if status == "" {
		status = "Connecting to the " + c.flow.Side(k.side) + "…"
	}
	s := st.Prompt.Render("›") + " " + st.Mask.Render(mask) + "\n\n" + c.spin + " " + wrap(status, w-2, "")
	if k.note != "" {
		s += "\n" + paint(st.Subtle, wrap(k.note, w, ""))
	}
	return s
}

// inputView is the masked input and what is wrong with the last key.
func (k keyModel) inputView(c viewCtx) string {
	st, w := c.st, c.width
	var b strings.Builder
	n := len([]rune(k.input.Value()))
	switch {
	case n == 0:
		b.WriteString(st.Prompt.Render("›") + " " + st.Subtle.Render("paste here, then press Enter"))
	case k.from != "":
		b.WriteString(st.Prompt.Render("›") + " " + st.Mask.Render(mask) + " " + st.Subtle.Render(fmt.Sprintf("(%d characters)", n)) + "\n")
		b.WriteString(paint(st.Subtle, wrap(words.Capitalize(k.from)+" lines of a .env file.", w, "")))
	default:
		b.WriteString(st.Prompt.Render("›") + " " + st.Mask.Render(mask) + " " + st.Subtle.Render(fmt.Sprintf("(%d characters)", n)))
	}
	switch {
	case k.empty:
		b.WriteString("\n\n" + st.Warning.Render("Paste a key first."))
	case k.problem != "":
		b.WriteString("\n\n" + paint(st.Error, wrap("✗ "+k.problem, w, "")) + "\n")
		b.WriteString(st.Subtle.Render("Paste again, or another key."))
	}
	return b.String()
}

package tui

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/ppg-cli/ppg/migrate"
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

// asked readies the input for a new key; problem says why the last one was
// refused (nil on the first ask).
func (k *keyModel) asked(problem *words.Failure, early bool) {
	k.tries++
	k.early = early
	k.problem, k.status, k.empty = "", "", false
	if problem != nil {
		k.problem = problem.Headline
		if problem.Reprompt != "" {
			k.problem += ". " + capitalize(problem.Reprompt) + "."
		}
		if k.sent != "" {
			k.problem = strings.ReplaceAll(k.problem, k.sent, mask)
		}
	}
	k.sent = ""
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
		k.sent = v
		k.input.Reset()
		k.input.Blur()
		k.problem, k.empty = "", false
		k.status = "Connecting to the " + flow.Side(k.side) + "…"
		return k, send(keyEnteredMsg{value: v})
	case key.Matches(msg, keys.Clear):
		k.input.Reset()
		return k, nil
	case key.Matches(msg, keys.Later):
		k.input.Reset()
		k.input.Blur()
		return k, send(keyLaterMsg{})
	}
	if msg.Type == tea.KeyRunes {
		if n := len(msg.Runes); n > maxKeyLength {
			// Not sent anywhere, not even kept: say what it was.
			k.problem = tooLong(n)
			return k, nil
		}
		if msg.Paste {
			// A pasted .env file: its key line.
			if line, ok := envLine(string(msg.Runes)); ok {
				msg.Runes = []rune(line)
			}
		}
		// A key copied from a terminal or a wrapped .env line may hold
		// line breaks: they are not part of it.
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

// assignment is a .env line: NAME=value.
var assignment = regexp.MustCompile(`^(export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*=`)

// envLine finds the key in a paste of several lines of a .env file: the
// PDP_API_KEY line, else the DATABASE_URL line. A key that a terminal
// wrapped has no such name: ok is false and its lines are joined.
func envLine(paste string) (string, bool) {
	lines := strings.FieldsFunc(paste, func(r rune) bool { return r == '\n' || r == '\r' })
	envLike := 0
	for _, l := range lines {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "#") || assignment.MatchString(t) {
			envLike++
		}
	}
	if envLike < 2 {
		return "", false // one wrapped line, not a file
	}
	for _, name := range []string{"PDP_API_KEY", "DATABASE_URL"} {
		for _, l := range lines {
			t := strings.TrimPrefix(strings.TrimSpace(l), "export ")
			if strings.HasPrefix(t, name+"=") || strings.HasPrefix(t, name+" =") {
				return t, true
			}
		}
	}
	return "", false
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
// no key is asked (connecting) it shows what the engine does.
func (k keyModel) view(c viewCtx, asking bool) string {
	st, w := c.st, c.width
	var b strings.Builder
	if k.side == migrate.Source {
		b.WriteString(st.Heading.Render("Paste the key of your "+c.flow.SourceLong) + "\n\n")
	} else {
		b.WriteString(st.Heading.Render("Paste the key of your "+c.flow.TargetLong) + "\n\n")
		if k.started == "" {
			b.WriteString(wrap("It must be a different, new database: the "+c.flow.SourceShort+" data is restored into it. An empty database is best.", w, "") + "\n")
		}
		if k.early && asking {
			b.WriteString(wrap("With both databases known, ppg checks the plan before the dump. No key yet? Press ctrl+l and paste it after the dump.", w, "") + "\n")
		}
	}
	b.WriteString(paint(st.Subtle, wrap("The API key, the DATABASE_URL value (prisma+postgres://…?api_key=…), a line of your .env file, or a direct postgres:// URL. It is never shown and never saved.", w, "")) + "\n")
	if k.started != "" {
		b.WriteString(paint(st.Subtle, wrap("This migration started with "+k.started+": paste the same key.", w, "")) + "\n")
	}
	b.WriteString("\n")

	if !asking {
		b.WriteString(st.Prompt.Render("›") + " " + st.Mask.Render(mask) + "\n\n")
		status := k.status
		if status == "" {
			status = "Connecting to the " + c.flow.Side(k.side) + "…"
		}
		b.WriteString(c.spin + " " + wrap(status, w-2, ""))
		if k.note != "" {
			b.WriteString("\n" + paint(st.Subtle, wrap(k.note, w, "")))
		}
		return b.String()
	}

	n := len([]rune(k.input.Value()))
	if n == 0 {
		b.WriteString(st.Prompt.Render("›") + " " + st.Subtle.Render("paste here, then press Enter"))
	} else {
		b.WriteString(st.Prompt.Render("›") + " " + st.Mask.Render(mask) + " " + st.Subtle.Render(fmt.Sprintf("(%d characters)", n)))
	}
	b.WriteString("\n")
	switch {
	case k.empty:
		b.WriteString("\n" + st.Warning.Render("Paste a key first."))
	case k.problem != "":
		b.WriteString("\n" + paint(st.Error, wrap("✗ "+k.problem, w, "")) + "\n")
		b.WriteString(st.Subtle.Render("Paste again, or another key."))
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

package migrate

import (
	"fmt"
	"path/filepath"
	"strings"
)

// A working folder belongs to the flow that started its migration: the EA
// wizard's (dumps named ppg-ea-…) or any PostgreSQL's (ppg-…). The other
// flow must not resume it: its keys, words and checks are the other's, and
// a folder opened by the wrong command would show an EA migration as a
// migration of any database, or the reverse. The state file records the
// flow by the dump prefix of its command (State.Flow).

// FlowMismatchError is a working folder whose migration another flow
// started.
type FlowMismatchError struct {
	// Dir is the working folder.
	Dir string
	// Flow is the dump prefix of the flow that started the migration in
	// it; Running is the prefix of the one that was run.
	Flow, Running string
}

// Class is ClassUsage: the command does not match the folder.
func (e *FlowMismatchError) Class() Class { return ClassUsage }

func (e *FlowMismatchError) Error() string {
	return fmt.Sprintf("the migration in %s was started by the flow whose dumps are named %s-…, not by this one (%s-…)", e.Dir, e.Flow, e.Running)
}

// StateFlow returns the flow (dump prefix) that started the migration of
// s. State files of earlier versions do not record it: it is read from the
// recorded dump's file name, which starts with the prefix (see
// DumpFileName). A state without a dump returns "": nothing was dumped, so
// any flow may take it over.
func StateFlow(s *State) string {
	if s.Flow != "" {
		return s.Flow
	}
	if s.Dump == nil || s.Dump.Path == "" {
		return ""
	}
	prefix, ok := strings.CutSuffix(filepath.Base(s.Dump.Path), DumpFileName("", s))
	if !ok || prefix == "" {
		return ""
	}
	return prefix
}

// CheckFlow returns a *FlowMismatchError when the migration of s, in dir,
// was started by another flow than the one whose dumps are named prefix.
// Front ends that read the state file before running the engine call it
// to say so at once; the engine checks it too.
func CheckFlow(s *State, dir, prefix string) error {
	if s == nil {
		return nil
	}
	if flow := StateFlow(s); flow != "" && flow != prefix {
		return &FlowMismatchError{Dir: dir, Flow: flow, Running: prefix}
	}
	return nil
}

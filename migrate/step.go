package migrate

// Step names one stage of a migration. Steps run in the order of Steps; each
// records its outcome in the state file before the next starts.
type Step string

// The steps, in order.
const (
	StepCheckTools    Step = "check-tools"
	StepConnectSource Step = "connect-source"
	StepDump          Step = "dump"
	StepCheckArchive  Step = "check-archive"
	StepConnectTarget Step = "connect-target"
	StepRestore       Step = "restore"
	StepVerify        Step = "verify"
	// StepDone is not a step but the position after the last one.
	StepDone Step = "done"
)

// steps lists the steps in the order they run.
var steps = [...]Step{StepCheckTools, StepConnectSource, StepDump, StepCheckArchive, StepConnectTarget, StepRestore, StepVerify}

// Steps returns the steps in the order they run.
func Steps() []Step { return append([]Step(nil), steps[:]...) }

func knownStep(s Step) bool {
	for _, st := range steps {
		if st == s {
			return true
		}
	}
	return false
}

// Title is a short human name of the step ("Dump the EA database").
func (s Step) Title() string {
	switch s {
	case StepCheckTools:
		return "Check pg_dump and pg_restore"
	case StepConnectSource:
		return "Connect to the EA database"
	case StepDump:
		return "Dump the EA database"
	case StepCheckArchive:
		return "Check the dump file"
	case StepConnectTarget:
		return "Connect to the GA database"
	case StepRestore:
		return "Restore into the GA database"
	case StepVerify:
		return "Verify the GA database"
	case StepDone:
		return "Done"
	}
	return string(s)
}

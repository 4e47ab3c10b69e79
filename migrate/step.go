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
	if s == StepStream {
		return true
	}
	for _, st := range steps {
		if st == s {
			return true
		}
	}
	return false
}

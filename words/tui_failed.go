package words

import (
	"errors"

	"github.com/ppg-cli/ppg/migrate"
	"github.com/ppg-cli/ppg/pgtools"
)

// Failed names what failed, as the headline of a failure screen: "Connect
// to the EA database failed". A step can fail in a part that is not its
// title: connecting to the source also judges the tools against the
// source's version ("Check pg_dump and pg_restore failed"), and the plan
// refuses once both databases are connected ("The plan blocks the
// migration"), although every connection worked.
func (f Flow) Failed(err error) string {
	var (
		pe *migrate.PlanError
		nf *pgtools.NotFoundError
	)
	switch {
	case errors.As(err, &pe):
		return "The plan blocks the migration"
	case errors.As(err, &nf), errors.Is(err, pgtools.ErrNotFound):
		return f.Step(migrate.StepCheckTools) + " failed"
	}
	if what := f.Explain(err).What; what != "" {
		return what + " failed"
	}
	return "The migration could not start"
}

// PlanFindings are the plan's items that are not simply fine, blocking
// ones first, each with its mark ("✗ the GA database is older: …", "! the
// EA database holds no tables: is this the GA database's key?"): what a
// front end shows when the plan blocks the migration, so that the
// question of a swapped key is asked there too.
func (f Flow) PlanFindings(p *migrate.Plan) []string {
	var blocks, rest []string
	for _, it := range p.Items {
		switch it.Verdict {
		case migrate.VerdictOK:
		case migrate.VerdictBlocks:
			blocks = append(blocks, Mark(it.Verdict)+" "+f.PlanItem(it))
		default:
			rest = append(rest, Mark(it.Verdict)+" "+f.PlanItem(it))
		}
	}
	return append(blocks, rest...)
}

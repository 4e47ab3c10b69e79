package cli

import "testing"

// TestWizardOffersLive: the wizard's engine offers live on the plan
// unless --live chose it already; headless runs never offer.
func TestWizardOffersLive(t *testing.T) {
	for _, c := range []command{fromEA, anyPostgres} {
		h := newHarness(t, nil)
		h.terminal = true
		for _, tt := range []struct {
			args  []string
			offer bool
		}{
			{nil, true},
			{[]string{"--live"}, false},
			{[]string{"--live", "--replica-identity-full=all"}, false},
		} {
			o, err := migrateOpts(t, h, c, tt.args...)
			if err != nil {
				t.Fatalf("%s %v: %v", c.use, tt.args, err)
			}
			cfg, err := o.wizardConfig()
			if err != nil || cfg.OfferLive != tt.offer || (cfg.Live != nil) == tt.offer {
				t.Errorf("%s %v: offer %v, live %+v, err %v; want offer %v", c.use, tt.args, cfg.OfferLive, cfg.Live, err, tt.offer)
			}
			if cfg, _ := o.headlessConfig(); cfg.OfferLive {
				t.Errorf("%s %v: the headless configuration offers live", c.use, tt.args)
			}
		}
	}
}

// Answers questions to the snippet's consent engine, one JSON object per line on stdin:
// {"site": client config, "action": ..., "regime": ..., "gpc": bool, "wanted": {...},
//  "stored": decision or null, "now": ms} -> {"choices", "defaults", "effective", "needs_banner"}
import { createInterface } from 'node:readline';
import {
  choicesFor,
  defaultChoices,
  effectiveChoices,
  needsBanner,
  consentModeState,
} from '../../snippet/src/engine.js';

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const q = JSON.parse(line);
  const choices = choicesFor(q.site, q.action, { regime: q.regime, wanted: q.wanted, base: q.base || {} });
  process.stdout.write(
    JSON.stringify({
      choices,
      defaults: defaultChoices(q.site, q.regime, q.gpc),
      effective: effectiveChoices(q.site, q.stored, q.regime, q.gpc, q.now),
      needs_banner: needsBanner(q.site, q.stored, q.now),
      consent_mode: consentModeState(q.site, choices),
    }) + '\n',
  );
});

// Reads an email's HTML on stdin and prints, as JSON, every feature caniemail flags for the
// clients named on the command line: [{client, level, title, support, notes}], one per client
// and feature (positions are dropped: the tests judge features, not lines).
import { caniemail } from 'caniemail';
import { readFileSync } from 'node:fs';

const html = readFileSync(0, 'utf8');
const clients = process.argv.slice(2);
const { issues } = caniemail({ html, clients });
const seen = new Map();
for (const [level, byClient] of [['error', issues.errors], ['warning', issues.warnings]]) {
  for (const [client, list] of byClient) {
    for (const { title, support, notes } of list) {
      const key = `${client}\u0000${level}\u0000${title}`;
      if (!seen.has(key)) seen.set(key, { client, level, title, support, notes: notes ?? [] });
    }
  }
}
process.stdout.write(JSON.stringify([...seen.values()]));

import t from 'tap';
import { EventFilters } from './event-filter.js';

// One row per rule of mod_event_socket's filter loop (event_handler in mod_event_socket.c).
const rows: Array<[string, Array<[string, string]>, Record<string, string>, boolean]> = [
  ['no filter: everything passes', [], { 'Unique-ID': 'b' }, true],
  ['positive match passes', [['Unique-ID', 'a']], { 'Unique-ID': 'a' }, true],
  ['positive miss drops (another channel)', [['Unique-ID', 'a']], { 'Unique-ID': 'b' }, false],
  ['header names and values compare case-insensitively', [['unique-id', 'A']], { 'Unique-ID': 'a' }, true],
  ['negative match vetoes a passing event', [['Unique-ID', 'a'], ['Application', '-multiset']], { 'Unique-ID': 'a', Application: 'multiset' }, false],
  ['negative miss keeps it', [['Unique-ID', 'a'], ['Application', '-multiset']], { 'Unique-ID': 'a', Application: 'bridge' }, true],
  ['a filter on an absent header is skipped', [['Unique-ID', 'a'], ['Application', '-socket']], { 'Unique-ID': 'a' }, true],
  ['only negative filters: nothing passes', [['Application', '-multiset']], { 'Unique-ID': 'a', Application: 'bridge' }, false],
  ['explicit + is positive', [['Unique-ID', '+a']], { 'Unique-ID': 'a' }, true],
];
for (const [name, filters, event, want] of rows) {
  t.test(name, async (t) => {
    const f = new EventFilters();
    for (const [h, v] of filters) f.add(h, v);
    t.equal(f.passesRecord(event), want);
  });
}

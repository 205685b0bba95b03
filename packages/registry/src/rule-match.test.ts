import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RoutingRule, VersionFacts } from './registry-types.js';
import { explainRules, globMatch, matchRule, versionFacts } from './rule-match.js';
import { SIGNATURE } from './test-support/fixtures.js';

/** A reference glob: the pattern as an anchored regular expression. */
function viaRegExp(pattern: string, text: string): boolean {
  const source = Array.from(pattern)
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su').test(text);
}

const alphabet = fc.constantFrom('a', 'b', '*', '?', '.', '_', '😀');
const patterns = fc.array(alphabet, { maxLength: 12 }).map((cs) => cs.join(''));
const texts = fc.array(fc.constantFrom('a', 'b', '.', '_', '*', '?', '😀'), { maxLength: 14 }).map((cs) => cs.join(''));

describe('globMatch', () => {
  it.each([
    ['onnxruntime_onnx', 'onnxruntime_onnx', true],
    ['tensorflowjs_*', 'tensorflowjs_graph', true],
    ['tensorflowjs_*', 'tensorflowjs_', true],
    ['tensorflowjs_*', 'tensorflow_savedmodel', false],
    ['*_onnx', 'onnxruntime_onnx', true],
    ['onnx', 'onnxruntime_onnx', false],
    ['ONNX*', 'onnx', false],
    ['v?', 'v1', true],
    ['v?', 'v10', false],
    ['?', '😀', true],
    ['*', '', true],
    ['', '', true],
    ['', 'a', false],
    ['a*b*c', 'aXbYbZc', true],
    ['a*b*c', 'aXbYbZ', false],
    ['**a', 'a', true],
    ['a.b', 'axb', false],
  ])('%j against %j is %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('agrees with an anchored regular expression on every pattern and text', () => {
    fc.assert(fc.property(patterns, texts, (p, t) => globMatch(p, t) === viaRegExp(p, t)), { numRuns: 5000 });
  });

  it('matches every text with itself when it has no wildcard, and with *', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (t) => {
        const literal = t.replace(/[*?]/g, '');
        return globMatch(literal, literal) && globMatch('*', t);
      }),
    );
  });

  it('is whole-string: a literal pattern never matches a longer text', () => {
    fc.assert(
      fc.property(fc.string().filter((s) => !/[*?]/.test(s)), fc.string({ minLength: 1 }), (p, extra) => !globMatch(p, p + extra) && !globMatch(p, extra + p)),
    );
  });

  it('? matches exactly one character: a run of n ? matches exactly the texts of n code points', () => {
    fc.assert(fc.property(fc.nat(6), texts, (n, t) => globMatch('?'.repeat(n), t) === (Array.from(t).length === n)));
  });

  it('stays fast on patterns that make naive backtracking exponential', () => {
    const started = Date.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(200))).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

function rule(id: number, priority: number, match: RoutingRule['match'], pool = `pool-${id}`): RoutingRule {
  return { id, priority, match, pool, description: '', createdAt: new Date(0), updatedAt: new Date(0) };
}

const FACTS: VersionFacts = {
  name: 'iris',
  version: 3,
  platform: 'onnxruntime_onnx',
  algorithm: 'mlp',
  tenant: 'default',
  labels: { team: 'vision', tier: 'gold' },
};

describe('versionFacts', () => {
  it("takes the platform from the version's signature and the rest from the model", () => {
    const now = new Date();
    const facts = versionFacts(
      {
        name: 'iris',
        tenant: 'acme',
        platform: 'declared-on-the-model',
        algorithm: null,
        description: '',
        labels: { a: 'b' },
        liveVersion: null,
        previousVersion: null,
        canaryVersion: null,
        canaryWeight: 0,
        shadowVersion: null,
        createdAt: now,
        updatedAt: now,
      },
      {
        model: 'iris',
        version: 7,
        sha256: '0'.repeat(64),
        size: 1,
        filename: 'model.onnx',
        format: 'onnx-file',
        signature: { ...SIGNATURE, platform: 'tensorflowjs_graph' },
        config: null,
        createdBy: 'a',
        createdAt: now,
        state: 'ready',
        stateReason: '',
        stateChangedAt: now,
      },
    );
    expect(facts).toEqual({ name: 'iris', version: 7, platform: 'tensorflowjs_graph', algorithm: null, tenant: 'acme', labels: { a: 'b' } });
  });
});

describe('matchRule and explainRules', () => {
  it('picks the first full match by priority, then id, whatever the order given', () => {
    const rules = [rule(5, 10, { platform: 'onnx*' }), rule(2, 10, { platform: '*' }), rule(1, 20, {}), rule(9, 5, { platform: 'tf*' })];
    expect(matchRule(rules, FACTS)?.id).toBe(2);
    expect(matchRule([...rules].reverse(), FACTS)?.id).toBe(2);
    expect(matchRule([rule(1, 1, { platform: 'tf*' })], FACTS)).toBeUndefined();
    expect(matchRule([], FACTS)).toBeUndefined();
  });

  it('needs every field to match (AND), labels by key', () => {
    expect(matchRule([rule(1, 1, { platform: 'onnx*', labels: { team: 'vis*' } })], FACTS)?.id).toBe(1);
    expect(matchRule([rule(1, 1, { platform: 'onnx*', labels: { team: 'nlp' } })], FACTS)).toBeUndefined();
    expect(matchRule([rule(1, 1, { labels: { owner: '*' } })], FACTS)).toBeUndefined();
    expect(matchRule([rule(1, 1, { algorithm: '*' })], { ...FACTS, algorithm: null })).toBeUndefined();
    expect(matchRule([rule(1, 1, { name: 'ir?s', tenant: 'def*', algorithm: 'mlp' })], FACTS)?.id).toBe(1);
  });

  it('says for every field why it did or did not match', () => {
    const explained = explainRules(
      [
        rule(2, 20, {}),
        rule(1, 10, { platform: 'tensorflowjs_*', labels: { team: 'vision', owner: 'x' } }),
        rule(3, 30, { platform: 'onnxruntime_onnx', algorithm: 'tree' }),
      ],
      { ...FACTS, algorithm: null },
    );
    expect(explained.map((e) => [e.rule.id, e.matched, e.reasons])).toEqual([
      [1, false, ["platform 'onnxruntime_onnx' does not match 'tensorflowjs_*'", "label team 'vision' matches 'vision'", 'label owner: missing']],
      [2, true, ['empty match: matches every version']],
      [3, false, ["platform 'onnxruntime_onnx' matches 'onnxruntime_onnx'", "algorithm null does not match 'tree'"]],
    ]);
  });

  it('agrees with explainRules: the matched rule is the first explained as matched', () => {
    const matches = fc.record(
      {
        platform: fc.constantFrom<string>('onnx*', 'tf*', '*', 'onnxruntime_onnx'),
        name: fc.constantFrom<string>('iris', 'i*', 'x*'),
        labels: fc.constantFrom<Record<string, string>>({ team: 'vision' }, { team: 'n*' }, { owner: '*' }),
      },
      { requiredKeys: [] },
    );
    const ruleSets = fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), matches), { maxLength: 6 }).map((rs) => rs.map(([p, m], i) => rule(i + 1, p, m)));
    fc.assert(
      fc.property(ruleSets, (rules) => {
        const first = explainRules(rules, FACTS).find((e) => e.matched)?.rule;
        return matchRule(rules, FACTS) === first;
      }),
    );
  });
});

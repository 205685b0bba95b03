import { describe, expect, it } from 'vitest';
import { captureIo } from './capture-io.fixture.js';
import { parseCommandLine } from './command-line.js';
import { run } from './run.js';

describe('parseCommandLine', () => {
  it('finds nested commands and names the positional arguments', () => {
    const parsed = parseCommandLine(['versions', 'upload', 'iris', 'model.onnx']);
    expect(parsed).toMatchObject({ kind: 'run', path: ['versions', 'upload'], args: { MODEL: 'iris', FILE: 'model.onnx' } });
  });

  it('takes global options before, between and after the command words', () => {
    for (const argv of [
      ['--url', 'http://h:1', '-o', 'json', 'models', 'list'],
      ['models', '--url=http://h:1', 'list', '--output', 'json'],
      ['models', 'list', '--url', 'http://h:1', '-o', 'json'],
    ]) {
      expect(parseCommandLine(argv)).toMatchObject({ kind: 'run', path: ['models', 'list'], options: { url: 'http://h:1', output: 'json' } });
    }
  });

  it('collects repeated options and keeps arguments after -- as positionals', () => {
    const parsed = parseCommandLine(['models', 'create', '--label', 'a=1', '--label=b=2', '--', '-odd-name']);
    expect(parsed).toMatchObject({ kind: 'run', args: { NAME: '-odd-name' }, options: { label: ['a=1', 'b=2'] } });
  });

  it('reads infer --version as the model version, elsewhere as the CLI version', () => {
    expect(parseCommandLine(['infer', 'iris', '--version', '2', '--input', 'x=1'])).toMatchObject({ kind: 'run', options: { version: '2' } });
    expect(parseCommandLine(['--version'])).toEqual({ kind: 'version' });
    expect(parseCommandLine(['models', 'list', '--version'])).toEqual({ kind: 'version' });
  });

  it('gives help at every level, before any other check', () => {
    const root = parseCommandLine(['--help']);
    const group = parseCommandLine(['models', '-h']);
    const command = parseCommandLine(['versions', 'upload', '--help', '--bogus']);
    expect(root.kind === 'help' && root.text).toContain('Usage: sibyl <command> [options]');
    expect(group.kind === 'help' && group.text).toContain('Usage: sibyl models <list|show|create|delete> ...');
    expect(command.kind === 'help' && command.text).toContain('Usage: sibyl versions upload MODEL FILE [--sha256 auto|HEX]');
  });
});

describe('usage errors: exit status 2, the message, then the usage line', () => {
  const cases: [argv: string[], message: string, usage: string][] = [
    [[], 'missing command', 'sibyl <command> [options]'],
    [['modles', 'list'], "unknown command 'modles'; did you mean 'models'?", 'sibyl <command> [options]'],
    [['models'], "missing command after 'models': one of list, show, create, delete", 'sibyl models <list|show|create|delete> ...'],
    [['models', 'lst'], "unknown command 'models lst'; did you mean 'list'?", 'sibyl models <list|show|create|delete> ...'],
    [['models', 'list', '--bogus'], "unknown option '--bogus'", 'sibyl models list'],
    [['models', 'list', '-x'], "unknown option '-x'", 'sibyl models list'],
    [['models', 'create', 'iris', '--labels', 'a=1'], "unknown option '--labels'; did you mean '--label'?", 'sibyl models create NAME'],
    [['models', 'list', '--url'], "option '--url' needs a value", 'sibyl models list'],
    [['models', 'list', '--url', '--output', 'json'], "option '--url' needs a value (write --url=--output", 'sibyl models list'],
    [['models', 'list', '--help=yes'], "option '--help' takes no value", 'sibyl models list'],
    [['models', 'show'], 'missing argument NAME', 'sibyl models show NAME'],
    [['versions', 'retire'], 'missing arguments MODEL VERSION', 'sibyl versions retire MODEL VERSION'],
    [['models', 'list', 'extra'], "unexpected argument 'extra'", 'sibyl models list'],
    [['deploy', 'iris', 'two'], "VERSION: expected a version number (1, 2, ...), got 'two'", 'sibyl deploy MODEL VERSION'],
    [['deploy', 'iris', '0'], "VERSION: expected a version number (1, 2, ...), got '0'", 'sibyl deploy MODEL VERSION'],
    [['versions', 'retire', 'iris', '-1'], "unknown option '-1'", 'sibyl versions retire MODEL VERSION'],
    [['models', 'list', '--output', 'yaml'], "--output: expected table or json, got 'yaml'", 'sibyl models list'],
    [['models', 'list', '--url', 'localhost:8003'], "--url: 'localhost:8003' must be an http:// or https:// URL", 'sibyl models list'],
    [['models', 'list', '--url', 'not a url'], "--url: 'not a url' is not a URL", 'sibyl models list'],
    [['models', 'create', 'iris', '--label', 'team'], "--label: expected KEY=VALUE, got 'team'", 'sibyl models create NAME'],
    [['versions', 'upload', 'iris', 'm.onnx', '--sha256', 'abc'], "--sha256: expected 'auto' or 64 hexadecimal digits, got 'abc'", 'sibyl versions upload MODEL FILE'],
    [['infer', 'iris'], 'missing the request: give --json FILE or --input NAME=V1,V2,...', 'sibyl infer MODEL'],
    [['infer', 'iris', '--json', 'r.json', '--input', 'x=1'], 'give either --json or --input, not both', 'sibyl infer MODEL'],
    [['infer', 'iris', '--json', 'r.json', '--shape', 'x=1'], '--shape goes with --input', 'sibyl infer MODEL'],
    [['infer', 'iris', '--version', 'latest', '--input', 'x=1'], "--version: expected a version number (1, 2, ...), got 'latest'", 'sibyl infer MODEL'],
    [['infer', 'iris', '--input', 'x='], "--input: 'x' has no value", 'sibyl infer MODEL'],
  ];

  it.each(cases)('sibyl %j', async (argv, message, usage) => {
    const io = captureIo({ env: { SIBYL_URL: 'http://127.0.0.1:9' } });
    const code = await run(argv, io);
    expect(code).toBe(2);
    expect(io.out()).toBe('');
    const [first, second, third] = io.err().split('\n');
    expect(first).toContain(`sibyl: ${message}`);
    expect(second).toMatch(new RegExp(`^Usage: ${usage.replace(/[[\]|.*+?()<>]/g, '\\$&')}`));
    expect(third).toMatch(/^Run 'sibyl( [a-z]+)* --help' for more\.$/);
  });

  it('rejects a bad SIBYL_URL naming the variable', async () => {
    const io = captureIo({ env: { SIBYL_URL: 'ftp://x' } });
    expect(await run(['status'], io)).toBe(2);
    expect(io.err()).toContain("sibyl: SIBYL_URL: 'ftp://x' must be an http:// or https:// URL");
  });
});

describe('--help and --version', () => {
  it('print to stdout and exit 0', async () => {
    const help = captureIo();
    expect(await run(['infer', '--help'], help)).toBe(0);
    expect(help.out()).toContain('sibyl infer iris --input input=5.1,3.5,1.4,0.2');
    expect(help.out()).toContain('Exit status: 0 success, 1 server error or server unreachable, 2 usage error, 3 not found (404), 4 conflict (409).');
    const version = captureIo();
    expect(await run(['--version'], version)).toBe(0);
    expect(version.out()).toMatch(/^sibyl \d+\.\d+\.\d+\n$/);
  });
});

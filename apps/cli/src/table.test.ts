import { describe, expect, it } from 'vitest';
import { bytesCell, cell, formatFields, formatTable, labelsCell, truncate } from './table.js';

describe('formatTable', () => {
  it('pads every column but the last to its widest cell, two spaces apart', () => {
    expect(formatTable(['NAME', 'LIVE', 'DESCRIPTION'], [['iris', '2', 'Iris classifier'], ['datatypes', '-', '-']])).toBe(
      ['NAME       LIVE  DESCRIPTION', 'iris       2     Iris classifier', 'datatypes  -     -', ''].join('\n'),
    );
  });

  it('continues a multi-line cell on the next lines with the other columns blank', () => {
    expect(formatTable(['A', 'B', 'C'], [['x', 'one\ntwo', 'z']])).toBe(['A  B    C', 'x  one  z', '   two', ''].join('\n'));
  });

  it('prints only the header for no rows', () => {
    expect(formatTable(['A', 'B'], [])).toBe('A  B\n');
  });
});

describe('formatFields', () => {
  it('aligns values after the labels', () => {
    expect(formatFields([['Name', 'iris'], ['Live version', '2']])).toBe('Name:          iris\nLive version:  2\n');
  });
});

describe('cells', () => {
  it('shows null, absent and empty as -, objects as JSON', () => {
    expect([cell(null), cell(undefined), cell(''), cell(0), cell(false), cell({ a: 1 })]).toEqual(['-', '-', '-', '0', 'false', '{"a":1}']);
  });

  it('writes labels as k=v pairs', () => {
    expect(labelsCell({ team: 'vision', tier: 'gold' })).toBe('team=vision,tier=gold');
    expect(labelsCell({})).toBe('-');
    expect(labelsCell(null)).toBe('-');
  });

  it('writes sizes in binary units', () => {
    expect([bytesCell(0), bytesCell(1023), bytesCell(1024), bytesCell(5 * 1024 * 1024 + 512 * 1024), bytesCell(3 * 1024 ** 3)]).toEqual([
      '0 B',
      '1023 B',
      '1.0 KiB',
      '5.5 MiB',
      '3.0 GiB',
    ]);
  });

  it('truncates with an ellipsis', () => {
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abc', 4)).toBe('abc');
  });
});

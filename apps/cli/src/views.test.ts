import { describe, expect, it } from 'vitest';
import { eventsView, inferView, modelsView, releaseView, statusView, versionsView, versionView } from './views.js';
import type { Model, Version } from './wire-types.js';

const iris: Model = {
  name: 'iris',
  tenant: 'default',
  platform: 'onnxruntime_onnx',
  algorithm: null,
  description: 'Iris classifier',
  labels: { team: 'vision' },
  live_version: 2,
  previous_version: 1,
  created_at: '2025-01-02T03:04:05Z',
  updated_at: '2025-01-02T03:04:05Z',
};

const v = (version: number, state: string, extra: Partial<Version> = {}): Version => ({
  model: 'iris',
  version,
  sha256: `${version}`.repeat(64),
  size: 1536,
  filename: 'model.onnx',
  format: 'onnx',
  state,
  state_reason: null,
  created_by: 'ana',
  created_at: '2025-01-02T03:04:05Z',
  ...extra,
});

describe('table views', () => {
  it('lists models with live and previous versions', () => {
    expect(modelsView([iris, { ...iris, name: 'text', live_version: null, previous_version: null, labels: {}, description: '' }])).toBe(
      [
        'NAME  PLATFORM          LIVE  PREVIOUS  LABELS       UPDATED               DESCRIPTION',
        'iris  onnxruntime_onnx  2     1         team=vision  2025-01-02T03:04:05Z  Iris classifier',
        'text  onnxruntime_onnx  -     -         -            2025-01-02T03:04:05Z  -',
        '',
      ].join('\n'),
    );
    expect(modelsView([])).toBe('No models.\n');
  });

  it('marks the live and previous versions when the model is known, and says why a version failed', () => {
    const text = versionsView([v(1, 'ready'), v(2, 'ready'), v(3, 'failed', { state_reason: 'not an ONNX model' })], iris);
    expect(text.split('\n')).toEqual([
      'VERSION  STATE                      RELEASE   SIZE     SHA256        FILENAME    CREATED BY  CREATED',
      '1        ready                      previous  1.5 KiB  111111111111  model.onnx  ana         2025-01-02T03:04:05Z',
      '2        ready                      live      1.5 KiB  222222222222  model.onnx  ana         2025-01-02T03:04:05Z',
      '3        failed: not an ONNX model            1.5 KiB  333333333333  model.onnx  ana         2025-01-02T03:04:05Z',
      '',
    ]);
    expect(versionsView([v(1, 'ready')])).not.toContain('RELEASE');
  });

  it('shows one version with its signature', () => {
    const text = versionView(
      v(2, 'ready', {
        signature: { platform: 'onnxruntime_onnx', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'label', datatype: 'INT64', shape: [-1] }] },
      }),
    );
    expect(text).toContain('Version:     2\n');
    expect(text).toContain('Size:        1.5 KiB (1536 bytes)\n');
    expect(text).toContain(['TENSOR  NAME   DATATYPE  SHAPE', 'input   input  FP32      [-1,4]', 'output  label  INT64     [-1]'].join('\n'));
  });

  it('says what a deploy and a rollback did', () => {
    expect(releaseView('deploy', { model: 'iris', live_version: 2, previous_version: 1 })).toBe('iris: deployed; live version 2 (previous 1)\n');
    expect(releaseView('rollback', { model: 'iris', live_version: 1, previous_version: 2 })).toBe('iris: rolled back; live version 1 (previous 2)\n');
  });

  it('lists audit events', () => {
    expect(eventsView([{ id: 7, at: 'T', actor: 'ana', action: 'deploy', model: 'iris', from: 1, to: 2, detail: null }])).toBe(
      'ID  AT  ACTOR  ACTION  FROM  TO  DETAIL\n7   T   ana    deploy  1     2   -\n',
    );
  });

  it('shows every status field the server sends, including ones it does not know', () => {
    expect(statusView({ name: 'sibyl', ready: true, versions_ready: 3, workers: { cpu: 2 } })).toBe(
      'name:            sibyl\nready:           true\nversions ready:  3\nworkers:         {"cpu":2}\n',
    );
  });

  it('shows infer outputs one row per batch entry, floats to 6 significant digits, long rows cut', () => {
    const text = inferView({
      model_name: 'iris',
      model_version: '2',
      outputs: [
        { name: 'probabilities', datatype: 'FP32', shape: [2, 3], data: [0.9999557733535767, 0.000044212669308763, 2.3969221798600907e-22, 0.1, 0.2, 0.7] },
        { name: 'label', datatype: 'INT64', shape: [2], data: [0, 2] },
        { name: 'long', datatype: 'INT32', shape: [12], data: Array.from({ length: 12 }, (_, i) => i) },
        { name: 'text', datatype: 'BYTES', shape: [1], data: ['a b'] },
      ],
    });
    expect(text).toBe(
      [
        'iris version 2',
        'OUTPUT         DATATYPE  SHAPE  DATA',
        'probabilities  FP32      [2,3]  [0.999956, 0.0000442127, 2.39692e-22]',
        '                                [0.1, 0.2, 0.7]',
        'label          INT64     [2]    [0, 2]',
        'long           INT32     [12]   [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, … 2 more]',
        'text           BYTES     [1]    ["a b"]',
        '',
      ].join('\n'),
    );
  });
});

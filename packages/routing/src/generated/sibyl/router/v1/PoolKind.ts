// Original file: sibyl/router/v1/router.proto

export const PoolKind = {
  POOL_KIND_UNSPECIFIED: 'POOL_KIND_UNSPECIFIED',
  POOL_KIND_SIBYL_ONNX: 'POOL_KIND_SIBYL_ONNX',
  POOL_KIND_SIBYL_TF: 'POOL_KIND_SIBYL_TF',
  POOL_KIND_TRITON: 'POOL_KIND_TRITON',
  POOL_KIND_TORCHSERVE: 'POOL_KIND_TORCHSERVE',
  POOL_KIND_PIPELINE: 'POOL_KIND_PIPELINE',
} as const;

export type PoolKind =
  | 'POOL_KIND_UNSPECIFIED'
  | 0
  | 'POOL_KIND_SIBYL_ONNX'
  | 1
  | 'POOL_KIND_SIBYL_TF'
  | 2
  | 'POOL_KIND_TRITON'
  | 3
  | 'POOL_KIND_TORCHSERVE'
  | 4
  | 'POOL_KIND_PIPELINE'
  | 5

export type PoolKind__Output = typeof PoolKind[keyof typeof PoolKind]

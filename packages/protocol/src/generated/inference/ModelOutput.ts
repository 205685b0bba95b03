// Original file: inference/model_config.proto

import type { DataType as _inference_DataType, DataType__Output as _inference_DataType__Output } from '../inference/DataType.js';
import type { Long } from '@grpc/proto-loader';

export interface ModelOutput {
  'name'?: (string);
  'data_type'?: (_inference_DataType);
  'dims'?: (number | string | Long)[];
  'label_filename'?: (string);
  'is_shape_tensor'?: (boolean);
}

export interface ModelOutput__Output {
  'name'?: (string);
  'data_type'?: (_inference_DataType__Output);
  'dims': (string)[];
  'label_filename'?: (string);
  'is_shape_tensor'?: (boolean);
}

/**
 * `map<string, InferParameter>` to and from Parameters.
 *
 * int64 and uint64 values arrive as decimal strings (proto-loader `longs: String`) and become
 * numbers when safe, bigint otherwise, so nothing is rounded.
 */
import { fieldMissing } from './errors.js';
import type { InferParameter, InferParameter__Output } from './generated/inference/InferParameter.js';
import type { ParameterValue, Parameters } from './tensor.js';

/** Parameters from a decoded gRPC map; undefined when the map is absent or empty. `path` names the map in errors. */
export function parametersFromGrpc(
  map: Readonly<Record<string, InferParameter__Output>> | undefined,
  path = 'parameters',
): Parameters | undefined {
  if (map === undefined) return undefined;
  let parameters: Parameters | undefined;
  for (const key in map) {
    (parameters ??= {})[key] = parameterFromGrpc(map[key]!, `${path}.${key}`);
  }
  return parameters;
}

function parameterFromGrpc(parameter: InferParameter__Output, path: string): ParameterValue {
  switch (parameter.parameter_choice) {
    case 'bool_param':
      return parameter.bool_param ?? false;
    case 'string_param':
      return parameter.string_param ?? '';
    case 'double_param':
      return parameter.double_param ?? 0;
    case 'int64_param':
      return integerFromDecimal(parameter.int64_param ?? '0');
    case 'uint64_param':
      return integerFromDecimal(parameter.uint64_param ?? '0');
    default:
      throw fieldMissing(`${path}.parameter_choice`);
  }
}

function integerFromDecimal(text: string): number | bigint {
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : BigInt(text);
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * A gRPC parameter map from Parameters; undefined when there are none. Integers travel as
 * int64_param (uint64_param beyond the int64 range), other numbers as double_param.
 */
export function parametersToGrpc(parameters: Parameters | undefined): Record<string, InferParameter> | undefined {
  if (parameters === undefined) return undefined;
  let map: Record<string, InferParameter> | undefined;
  for (const key in parameters) (map ??= {})[key] = parameterToGrpc(parameters[key]!);
  return map;
}

function parameterToGrpc(value: ParameterValue): InferParameter {
  switch (typeof value) {
    case 'boolean':
      return { parameter_choice: 'bool_param', bool_param: value };
    case 'string':
      return { parameter_choice: 'string_param', string_param: value };
    case 'bigint':
      return value > INT64_MAX
        ? { parameter_choice: 'uint64_param', uint64_param: value.toString() }
        : { parameter_choice: 'int64_param', int64_param: value.toString() };
    default:
      return Number.isSafeInteger(value)
        ? { parameter_choice: 'int64_param', int64_param: value }
        : { parameter_choice: 'double_param', double_param: value };
  }
}

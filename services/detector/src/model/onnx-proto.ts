// onnx-proto is CommonJS whose exports Node cannot detect statically, so take the namespace off the default export.
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type { onnx as OnnxTypes } from 'onnx-proto';

"""ONNX Runtime inference for trained pipelines: `export-onnx` writes a pipeline copy whose
transformer and scoring heads run as ONNX graphs (float or int8) with onnxruntime on CPU."""

namespace PruneGen.Onnx;

/// <summary>
/// Field numbers and enum values of the ONNX protobuf schema (<c>onnx/onnx.proto</c>) that the exporter
/// writes. Each message's numbers are grouped in a nested class named after the message.
/// </summary>
internal static class OnnxProto
{
    /// <summary><c>message ModelProto</c>.</summary>
    public static class Model
    {
        /// <summary><c>optional int64 ir_version = 1</c>.</summary>
        public const int IrVersion = 1;

        /// <summary><c>optional string producer_name = 2</c>.</summary>
        public const int ProducerName = 2;

        /// <summary><c>optional string producer_version = 3</c>.</summary>
        public const int ProducerVersion = 3;

        /// <summary><c>optional string doc_string = 6</c>.</summary>
        public const int DocString = 6;

        /// <summary><c>optional GraphProto graph = 7</c>.</summary>
        public const int Graph = 7;

        /// <summary><c>repeated OperatorSetIdProto opset_import = 8</c>.</summary>
        public const int OpsetImport = 8;
    }

    /// <summary><c>message OperatorSetIdProto</c>.</summary>
    public static class OperatorSetId
    {
        /// <summary><c>optional int64 version = 2</c> (field 1, <c>domain</c>, is left out: absent means the default ONNX domain).</summary>
        public const int Version = 2;
    }

    /// <summary><c>message GraphProto</c>.</summary>
    public static class Graph
    {
        /// <summary><c>repeated NodeProto node = 1</c> (topologically sorted).</summary>
        public const int Node = 1;

        /// <summary><c>optional string name = 2</c>.</summary>
        public const int Name = 2;

        /// <summary><c>repeated TensorProto initializer = 5</c>.</summary>
        public const int Initializer = 5;

        /// <summary><c>repeated ValueInfoProto input = 11</c>.</summary>
        public const int Input = 11;

        /// <summary><c>repeated ValueInfoProto output = 12</c>.</summary>
        public const int Output = 12;

        /// <summary><c>repeated ValueInfoProto value_info = 13</c>.</summary>
        public const int ValueInfo = 13;
    }

    /// <summary><c>message NodeProto</c>.</summary>
    public static class Node
    {
        /// <summary><c>repeated string input = 1</c>.</summary>
        public const int Input = 1;

        /// <summary><c>repeated string output = 2</c>.</summary>
        public const int Output = 2;

        /// <summary><c>optional string name = 3</c>.</summary>
        public const int Name = 3;

        /// <summary><c>optional string op_type = 4</c>.</summary>
        public const int OpType = 4;

        /// <summary><c>repeated AttributeProto attribute = 5</c>.</summary>
        public const int Attribute = 5;

        /// <summary><c>optional string doc_string = 6</c>.</summary>
        public const int DocString = 6;
    }

    /// <summary><c>message AttributeProto</c>.</summary>
    public static class Attribute
    {
        /// <summary><c>optional string name = 1</c>.</summary>
        public const int Name = 1;

        /// <summary><c>optional float f = 2</c>.</summary>
        public const int F = 2;

        /// <summary><c>optional int64 i = 3</c>.</summary>
        public const int I = 3;

        /// <summary><c>repeated int64 ints = 8</c> (proto2, not packed: one tag per element).</summary>
        public const int Ints = 8;

        /// <summary><c>optional AttributeType type = 20</c>.</summary>
        public const int Type = 20;

        /// <summary><c>AttributeType.FLOAT = 1</c>.</summary>
        public const int TypeFloat = 1;

        /// <summary><c>AttributeType.INT = 2</c>.</summary>
        public const int TypeInt = 2;

        /// <summary><c>AttributeType.INTS = 7</c>.</summary>
        public const int TypeInts = 7;
    }

    /// <summary><c>message ValueInfoProto</c>.</summary>
    public static class ValueInfo
    {
        /// <summary><c>optional string name = 1</c>.</summary>
        public const int Name = 1;

        /// <summary><c>optional TypeProto type = 2</c>.</summary>
        public const int Type = 2;
    }

    /// <summary><c>message TypeProto</c> and its nested <c>message Tensor</c>.</summary>
    public static class Type
    {
        /// <summary><c>TypeProto.tensor_type = 1</c> (a member of <c>oneof value</c>).</summary>
        public const int TensorType = 1;

        /// <summary><c>TypeProto.Tensor.elem_type = 1</c> (a <c>TensorProto.DataType</c>).</summary>
        public const int TensorElemType = 1;

        /// <summary><c>TypeProto.Tensor.shape = 2</c>.</summary>
        public const int TensorShape = 2;
    }

    /// <summary><c>message TensorShapeProto</c> and its nested <c>message Dimension</c>.</summary>
    public static class Shape
    {
        /// <summary><c>TensorShapeProto.dim = 1</c>.</summary>
        public const int Dim = 1;

        /// <summary><c>Dimension.dim_value = 1</c> (<c>oneof value</c>).</summary>
        public const int DimValue = 1;

        /// <summary><c>Dimension.dim_param = 2</c> (<c>oneof value</c>): a symbolic dimension.</summary>
        public const int DimParam = 2;
    }

    /// <summary><c>message TensorProto</c>.</summary>
    public static class Tensor
    {
        /// <summary><c>repeated int64 dims = 1</c> (proto2, not packed: one tag per element).</summary>
        public const int Dims = 1;

        /// <summary><c>optional int32 data_type = 2</c>.</summary>
        public const int DataType = 2;

        /// <summary><c>optional string name = 8</c>.</summary>
        public const int Name = 8;

        /// <summary><c>optional bytes raw_data = 9</c> (fixed-width little-endian elements).</summary>
        public const int RawData = 9;

        /// <summary><c>DataType.FLOAT = 1</c>.</summary>
        public const int DataTypeFloat = 1;
    }
}

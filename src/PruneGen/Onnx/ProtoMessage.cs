using System;
using System.Collections.Generic;
using Google.Protobuf;

namespace PruneGen.Onnx;

/// <summary>
/// A protobuf message under construction: a list of fields written in the order they were added.
/// Nested messages are kept as objects, so the whole tree is sized once and then written in one
/// pass into a single buffer with <see cref="CodedOutputStream"/> (no intermediate copies of the
/// weight data). Only the wire types ONNX needs are supported: varint (int64 / int32 / enum),
/// 32-bit (float) and length-delimited (string, bytes, message).
/// </summary>
internal sealed class ProtoMessage
{
    /// <summary>Protobuf's hard limit on a serialized message (ONNX models above it need external data).</summary>
    public const long MaxSize = int.MaxValue;

    private readonly List<Field> _fields = new();
    private long _size = -1;

    private enum FieldKind
    {
        Varint,
        Float,
        String,
        Message,
        FloatsAsBytes,
    }

    /// <summary>Adds a varint field (int64, int32 or enum).</summary>
    public ProtoMessage Int64(int number, long value) => Add(new Field(number, FieldKind.Varint) { Integer = value });

    /// <summary>Adds a 32-bit float field.</summary>
    public ProtoMessage Float(int number, float value) => Add(new Field(number, FieldKind.Float) { Single = value });

    /// <summary>Adds a UTF-8 string field.</summary>
    public ProtoMessage String(int number, string value) => Add(new Field(number, FieldKind.String) { Text = value });

    /// <summary>Adds a nested message field.</summary>
    public ProtoMessage Message(int number, ProtoMessage value) => Add(new Field(number, FieldKind.Message) { Nested = value });

    /// <summary>Adds a bytes field holding <paramref name="values"/> as IEEE 754 little-endian floats (ONNX <c>raw_data</c>).</summary>
    public ProtoMessage FloatsAsBytes(int number, float[] values) => Add(new Field(number, FieldKind.FloatsAsBytes) { Floats = values });

    /// <summary>The serialized size in bytes.</summary>
    public long Size
    {
        get
        {
            if (_size < 0)
            {
                long size = 0;
                foreach (var f in _fields)
                {
                    size += CodedOutputStream.ComputeTagSize(f.Number) + f.Kind switch
                    {
                        FieldKind.Varint => CodedOutputStream.ComputeInt64Size(f.Integer),
                        FieldKind.Float => sizeof(float),
                        FieldKind.String => CodedOutputStream.ComputeStringSize(f.Text!),
                        FieldKind.Message => LengthDelimited(f.Nested!.Size),
                        _ => LengthDelimited((long)f.Floats!.Length * sizeof(float)),
                    };
                }

                _size = size;
            }

            return _size;
        }
    }

    /// <summary>Serializes the message.</summary>
    /// <exception cref="NotSupportedException">The message is larger than protobuf's 2 GiB limit.</exception>
    public byte[] ToByteArray()
    {
        var size = Size;
        if (size > MaxSize)
        {
            throw new NotSupportedException($"The ONNX model would take {size:N0} bytes, more than protobuf's limit of {MaxSize:N0} bytes.");
        }

        var buffer = new byte[size];
        var output = new CodedOutputStream(buffer);
        WriteTo(output);
        output.CheckNoSpaceLeft();
        return buffer;
    }

    private static long LengthDelimited(long length)
    {
        if (length > MaxSize)
        {
            throw new NotSupportedException($"A field of the ONNX model would take {length:N0} bytes, more than protobuf's limit of {MaxSize:N0} bytes.");
        }

        return CodedOutputStream.ComputeLengthSize((int)length) + length;
    }

    private void WriteTo(CodedOutputStream output)
    {
        foreach (var f in _fields)
        {
            switch (f.Kind)
            {
                case FieldKind.Varint:
                    output.WriteTag(f.Number, WireFormat.WireType.Varint);
                    output.WriteInt64(f.Integer);
                    break;
                case FieldKind.Float:
                    output.WriteTag(f.Number, WireFormat.WireType.Fixed32);
                    output.WriteFloat(f.Single);
                    break;
                case FieldKind.String:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteString(f.Text!);
                    break;
                case FieldKind.Message:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteLength((int)f.Nested!.Size);
                    f.Nested.WriteTo(output);
                    break;
                default:
                    output.WriteTag(f.Number, WireFormat.WireType.LengthDelimited);
                    output.WriteLength(f.Floats!.Length * sizeof(float));
                    foreach (var v in f.Floats)
                    {
                        // WriteFloat writes the 4 bytes little-endian on every platform, as raw_data requires.
                        output.WriteFloat(v);
                    }

                    break;
            }
        }
    }

    private ProtoMessage Add(Field field)
    {
        _fields.Add(field);
        _size = -1;
        return this;
    }

    private readonly record struct Field(int Number, FieldKind Kind)
    {
        public long Integer { get; init; }

        public float Single { get; init; }

        public string? Text { get; init; }

        public ProtoMessage? Nested { get; init; }

        public float[]? Floats { get; init; }
    }
}

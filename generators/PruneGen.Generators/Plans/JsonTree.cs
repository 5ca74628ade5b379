using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace PruneGen.Generators.Plans;

/// <summary>The kind of a JSON value.</summary>
internal enum JsonKind
{
    Object,
    Array,
    String,
    Number,
    True,
    False,
    Null,
}

/// <summary>
/// A JSON value with its position in the text (character offsets, end exclusive), so that every
/// problem found in a plan can be reported at the node it is about. Built by <see cref="JsonTree.Parse"/>;
/// lives only inside one pipeline step (never in a pipeline model).
/// </summary>
internal sealed class JsonNode(JsonKind kind, int start)
{
    public JsonKind Kind { get; } = kind;

    public int Start { get; } = start;

    public int End { get; set; }

    /// <summary>The decoded string, or the number's literal text.</summary>
    public string? Text { get; set; }

    /// <summary>An object's properties in order (duplicates kept; readers take the first).</summary>
    public List<KeyValuePair<string, JsonNode>> Properties { get; } = new();

    /// <summary>An array's items in order.</summary>
    public List<JsonNode> Items { get; } = new();

    /// <summary>The first property named <paramref name="name"/>, or null.</summary>
    public JsonNode? Get(string name)
    {
        foreach (var p in Properties)
        {
            if (p.Key == name)
            {
                return p.Value;
            }
        }

        return null;
    }

    /// <summary>A short description for messages ("the string \"x\"", "an array"...).</summary>
    public string Describe() => Kind switch
    {
        JsonKind.String => $"the string \"{Text}\"",
        JsonKind.Number => $"the number {Text}",
        JsonKind.Array => "an array",
        JsonKind.Object => "an object",
        JsonKind.True => "true",
        JsonKind.False => "false",
        _ => "null",
    };
}

/// <summary>A JSON syntax error at a character offset.</summary>
internal sealed class JsonSyntaxException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}

/// <summary>
/// A strict RFC 8259 JSON parser (no comments, no trailing commas: what <c>System.Text.Json</c> accepts
/// by default, so a plan the generator accepts is one the runtime's <c>PlanFile</c> reads) that keeps
/// the position of every value. Small on purpose: the generator needs positions, which
/// <c>JsonDocument</c> does not expose, and a JSON library packed next to the generator would have to
/// load in every compiler host (the SDK's and Visual Studio's), each with its own copy of it.
/// </summary>
internal static class JsonTree
{
    private const int MaxDepth = 64;

    /// <summary>Parses <paramref name="text"/>; throws <see cref="JsonSyntaxException"/> at the first error.</summary>
    public static JsonNode Parse(string text)
    {
        var p = new Parser(text);
        p.SkipWhitespace();
        if (p.Pos < text.Length && text[p.Pos] == '\uFEFF')
        {
            p.Pos++;
            p.SkipWhitespace();
        }

        var root = p.Value(0);
        p.SkipWhitespace();
        if (p.Pos < text.Length)
        {
            throw new JsonSyntaxException($"unexpected {p.Describe()} after the end of the JSON value", p.Pos);
        }

        return root;
    }

    private sealed class Parser(string text)
    {
        public int Pos { get; set; }

        public void SkipWhitespace()
        {
            while (Pos < text.Length && text[Pos] is ' ' or '\t' or '\n' or '\r')
            {
                Pos++;
            }
        }

        public string Describe()
        {
            if (Pos >= text.Length)
            {
                return "end of file";
            }

            var c = text[Pos];
            return c < ' ' ? $"character U+{(int)c:X4}" : $"'{c}'";
        }

        public JsonNode Value(int depth)
        {
            if (depth > MaxDepth)
            {
                throw new JsonSyntaxException($"nesting deeper than {MaxDepth} levels", Pos);
            }

            SkipWhitespace();
            if (Pos >= text.Length)
            {
                throw new JsonSyntaxException("expected a value, found end of file", Pos);
            }

            switch (text[Pos])
            {
                case '{':
                    return Object(depth);
                case '[':
                    return Array(depth);
                case '"':
                    {
                        var node = new JsonNode(JsonKind.String, Pos);
                        node.Text = String();
                        node.End = Pos;
                        return node;
                    }

                case 't':
                    return Literal("true", JsonKind.True);
                case 'f':
                    return Literal("false", JsonKind.False);
                case 'n':
                    return Literal("null", JsonKind.Null);
                default:
                    if (text[Pos] == '-' || (text[Pos] >= '0' && text[Pos] <= '9'))
                    {
                        return Number();
                    }

                    throw new JsonSyntaxException($"expected a value, found {Describe()}", Pos);
            }
        }

        private JsonNode Object(int depth)
        {
            var node = new JsonNode(JsonKind.Object, Pos);
            Pos++;
            SkipWhitespace();
            if (Pos < text.Length && text[Pos] == '}')
            {
                Pos++;
                node.End = Pos;
                return node;
            }

            while (true)
            {
                SkipWhitespace();
                if (Pos >= text.Length || text[Pos] != '"')
                {
                    throw new JsonSyntaxException($"expected a property name in double quotes, found {Describe()}", Pos);
                }

                var name = String();
                SkipWhitespace();
                if (Pos >= text.Length || text[Pos] != ':')
                {
                    throw new JsonSyntaxException($"expected ':' after property name \"{name}\", found {Describe()}", Pos);
                }

                Pos++;
                node.Properties.Add(new KeyValuePair<string, JsonNode>(name, Value(depth + 1)));
                SkipWhitespace();
                if (Pos < text.Length && text[Pos] == ',')
                {
                    Pos++;
                    continue;
                }

                if (Pos < text.Length && text[Pos] == '}')
                {
                    Pos++;
                    node.End = Pos;
                    return node;
                }

                throw new JsonSyntaxException($"expected ',' or '}}' after the value of \"{name}\", found {Describe()}", Pos);
            }
        }

        private JsonNode Array(int depth)
        {
            var node = new JsonNode(JsonKind.Array, Pos);
            Pos++;
            SkipWhitespace();
            if (Pos < text.Length && text[Pos] == ']')
            {
                Pos++;
                node.End = Pos;
                return node;
            }

            while (true)
            {
                node.Items.Add(Value(depth + 1));
                SkipWhitespace();
                if (Pos < text.Length && text[Pos] == ',')
                {
                    Pos++;
                    continue;
                }

                if (Pos < text.Length && text[Pos] == ']')
                {
                    Pos++;
                    node.End = Pos;
                    return node;
                }

                throw new JsonSyntaxException($"expected ',' or ']' after an array item, found {Describe()}", Pos);
            }
        }

        private JsonNode Literal(string word, JsonKind kind)
        {
            if (string.CompareOrdinal(text, Pos, word, 0, word.Length) != 0)
            {
                throw new JsonSyntaxException($"expected a value, found {Describe()}", Pos);
            }

            var node = new JsonNode(kind, Pos);
            Pos += word.Length;
            node.End = Pos;
            return node;
        }

        private JsonNode Number()
        {
            var node = new JsonNode(JsonKind.Number, Pos);
            var start = Pos;
            if (text[Pos] == '-')
            {
                Pos++;
            }

            if (Pos < text.Length && text[Pos] == '0')
            {
                Pos++;
            }
            else if (!Digits())
            {
                throw new JsonSyntaxException($"expected a digit, found {Describe()}", Pos);
            }

            if (Pos < text.Length && text[Pos] == '.')
            {
                Pos++;
                if (!Digits())
                {
                    throw new JsonSyntaxException($"expected a digit after '.', found {Describe()}", Pos);
                }
            }

            if (Pos < text.Length && text[Pos] is 'e' or 'E')
            {
                Pos++;
                if (Pos < text.Length && text[Pos] is '+' or '-')
                {
                    Pos++;
                }

                if (!Digits())
                {
                    throw new JsonSyntaxException($"expected a digit in the exponent, found {Describe()}", Pos);
                }
            }

            node.Text = text.Substring(start, Pos - start);
            node.End = Pos;
            return node;
        }

        private bool Digits()
        {
            var start = Pos;
            while (Pos < text.Length && text[Pos] >= '0' && text[Pos] <= '9')
            {
                Pos++;
            }

            return Pos > start;
        }

        private string String()
        {
            var open = Pos;
            Pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (Pos >= text.Length)
                {
                    throw new JsonSyntaxException("unterminated string (missing closing '\"')", open);
                }

                var c = text[Pos];
                if (c == '"')
                {
                    Pos++;
                    return sb.ToString();
                }

                if (c < ' ')
                {
                    throw new JsonSyntaxException($"{Describe()} inside a string; escape it (e.g. \\n)", Pos);
                }

                if (c != '\\')
                {
                    sb.Append(c);
                    Pos++;
                    continue;
                }

                Pos++;
                if (Pos >= text.Length)
                {
                    throw new JsonSyntaxException("unterminated string (missing closing '\"')", open);
                }

                var e = text[Pos];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case '/': sb.Append('/'); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (Pos + 4 >= text.Length || !int.TryParse(text.Substring(Pos + 1, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var code))
                        {
                            throw new JsonSyntaxException("expected four hexadecimal digits after \\u", Pos);
                        }

                        sb.Append((char)code);
                        Pos += 4;
                        break;
                    default:
                        throw new JsonSyntaxException($"invalid escape '\\{e}' in a string", Pos - 1);
                }

                Pos++;
            }
        }
    }
}

using System.Buffers;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Unicode;

namespace RaftCache.Linearizability;

/// <summary>The JSON lines format of <see cref="History"/>: one self-contained JSON object per operation.</summary>
/// <remarks>
/// Written by hand with <see cref="Utf8JsonWriter"/> rather than by reflection so that the file stays easy to read and
/// grep: values show as text when they are UTF-8, absent fields are left out, and enums are names.
/// </remarks>
internal static class HistoryJsonLines
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        // Histories are files for people and tools, never embedded in HTML, so only JSON's own escaping is needed.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static void Write(History history, Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var buffer = new ArrayBufferWriter<byte>();
        using var writer = new Utf8JsonWriter(buffer, WriterOptions);
        foreach (var op in history.Operations)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteOperation(writer, op);
            writer.Flush();
            stream.Write(buffer.WrittenSpan);
            stream.WriteByte((byte)'\n');
        }

        stream.Flush();
    }

    public static History Read(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var operations = new List<Operation>();
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: false, leaveOpen: true);
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            try
            {
                using var document = JsonDocument.Parse(line);
                operations.Add(ReadOperation(document.RootElement));
            }
            catch (Exception e) when (e is JsonException or ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException)
            {
                throw new FormatException($"Line {lineNumber} is not a valid operation: {e.Message}", e);
            }
        }

        return new History(operations);
    }

    private static void WriteOperation(Utf8JsonWriter writer, Operation op)
    {
        writer.WriteStartObject();
        writer.WriteNumber("id", op.Id);
        writer.WriteNumber("client", op.ClientId);
        writer.WriteString("kind", op.Kind.ToString());
        writer.WriteString("key", op.Key);
        if (op.Value is not null)
        {
            WriteBytes(writer, "value", op.Value);
        }

        if (op.Kind == OperationKind.CompareAndSet)
        {
            // Written even when absent, as "expected":null, so that a missing field is an error rather than "absent".
            WriteNullableBytes(writer, "expected", op.ExpectedValue);
        }

        writer.WriteNumber("invokedAt", op.InvokedAt);
        if (op.CompletedAt is long completedAt)
        {
            writer.WriteNumber("completedAt", completedAt);
        }
        else
        {
            writer.WriteNull("completedAt");
        }

        writer.WriteString("outcome", op.Outcome.ToString());
        if (op.Kind == OperationKind.Get && op.Outcome == OperationOutcome.Ok)
        {
            WriteNullableBytes(writer, "read", op.ReadValue);
        }

        if (op.Existed is bool existed)
        {
            writer.WriteBoolean("existed", existed);
        }

        if (op.Succeeded is bool succeeded)
        {
            writer.WriteBoolean("succeeded", succeeded);
        }

        if (op.Number is long number)
        {
            writer.WriteNumber("number", number);
        }

        writer.WriteEndObject();
    }

    private static void WriteNullableBytes(Utf8JsonWriter writer, string name, byte[]? value)
    {
        if (value is null)
        {
            writer.WriteNull(name);
        }
        else
        {
            WriteBytes(writer, name, value);
        }
    }

    private static void WriteBytes(Utf8JsonWriter writer, string name, byte[] value)
    {
        // Valid UTF-8 survives a JSON string round trip byte for byte; anything else goes as base64.
        if (Utf8.IsValid(value))
        {
            writer.WriteString(name, value.AsSpan());
        }
        else
        {
            writer.WriteBase64String(name + "Base64", value);
        }
    }

    private static Operation ReadOperation(JsonElement element)
    {
        var kind = Enum.Parse<OperationKind>(element.GetProperty("kind").GetString() ?? "", ignoreCase: false);
        var outcome = Enum.Parse<OperationOutcome>(element.GetProperty("outcome").GetString() ?? "", ignoreCase: false);
        var completedAt = element.TryGetProperty("completedAt", out var completed) && completed.ValueKind != JsonValueKind.Null
            ? completed.GetInt64()
            : (long?)null;
        byte[]? read = null;
        if (kind == OperationKind.Get && outcome == OperationOutcome.Ok)
        {
            if (!TryReadBytes(element, "read", out read, out var present) && !present)
            {
                throw new FormatException("An Ok Get needs \"read\" (null when the key was absent) or \"readBase64\".");
            }
        }

        byte[]? expected = null;
        if (kind == OperationKind.CompareAndSet)
        {
            if (!TryReadBytes(element, "expected", out expected, out var present) && !present)
            {
                throw new FormatException("A CompareAndSet needs \"expected\" (null when the key must be absent) or \"expectedBase64\".");
            }
        }

        TryReadBytes(element, "value", out var value, out _);
        bool? existed = element.TryGetProperty("existed", out var existedElement) && existedElement.ValueKind != JsonValueKind.Null
            ? existedElement.GetBoolean()
            : null;
        bool? succeeded = element.TryGetProperty("succeeded", out var succeededElement) && succeededElement.ValueKind != JsonValueKind.Null
            ? succeededElement.GetBoolean()
            : null;
        long? number = element.TryGetProperty("number", out var numberElement) && numberElement.ValueKind != JsonValueKind.Null
            ? numberElement.GetInt64()
            : null;
        return new Operation(
            element.GetProperty("id").GetInt64(),
            element.GetProperty("client").GetInt32(),
            kind,
            element.GetProperty("key").GetString() ?? throw new FormatException("\"key\" cannot be null."),
            value,
            element.GetProperty("invokedAt").GetInt64(),
            completedAt,
            outcome,
            read,
            existed,
            expected,
            succeeded,
            number);
    }

    /// <summary>
    /// Reads the property <c>name</c> (UTF-8 text) or <c>nameBase64</c>; <c>present</c> says whether either is there,
    /// even as <see langword="null"/>.
    /// </summary>
    private static bool TryReadBytes(JsonElement element, string name, out byte[]? value, out bool present)
    {
        value = null;
        present = false;
        if (element.TryGetProperty(name, out var text))
        {
            present = true;
            if (text.ValueKind != JsonValueKind.Null)
            {
                value = Encoding.UTF8.GetBytes(text.GetString()!);
                return true;
            }
        }

        if (element.TryGetProperty(name + "Base64", out var base64))
        {
            present = true;
            if (base64.ValueKind != JsonValueKind.Null)
            {
                value = base64.GetBytesFromBase64();
                return true;
            }
        }

        return false;
    }
}

using System.Text;
using System.Text.Unicode;

namespace RaftCache.Linearizability;

/// <summary>Short, readable renderings of keys and values for explanations.</summary>
internal static class ValueText
{
    private const int MaxChars = 40;

    /// <summary><c>"text"</c> for printable UTF-8, <c>0x…</c> hex otherwise, <c>absent</c> for <see langword="null"/>.</summary>
    public static string Format(byte[]? value)
    {
        if (value is null)
        {
            return "absent";
        }

        if (IsPrintableUtf8(value))
        {
            var text = Encoding.UTF8.GetString(value);
            return text.Length <= MaxChars ? $"\"{text}\"" : $"\"{text[..MaxChars]}...\" ({value.Length} bytes)";
        }

        var hex = Convert.ToHexString(value, 0, Math.Min(value.Length, MaxChars / 2));
        return value.Length <= MaxChars / 2 ? $"0x{hex}" : $"0x{hex}... ({value.Length} bytes)";
    }

    public static string Key(string key) => key.Length <= MaxChars ? key : key[..MaxChars] + "...";

    /// <summary>Valid UTF-8 without control characters, so it can be shown (and stored in JSON) as text.</summary>
    public static bool IsPrintableUtf8(ReadOnlySpan<byte> value)
    {
        if (!Utf8.IsValid(value))
        {
            return false;
        }

        foreach (var b in value)
        {
            if (b < 0x20 || b == 0x7F)
            {
                return false;
            }
        }

        return true;
    }
}

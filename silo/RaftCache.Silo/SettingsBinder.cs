using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace RaftCache.Silo;

/// <summary>
/// Binds a configuration section to an options object one setting at a time, descending into nested sections
/// (<c>RaftCache:Cache</c>), so that every value that does not convert is reported, not just the first: the
/// configuration binder stops at the first failure. A key that names no setting is reported too, since the binder
/// would silently ignore a misspelt one.
/// </summary>
internal static class SettingsBinder
{
    /// <summary>
    /// A new <typeparamref name="T"/> with the settings of section <paramref name="sectionName"/>; each setting that
    /// does not convert keeps its default and adds a message naming it by its full path to <paramref name="errors"/>.
    /// </summary>
    public static T Bind<T>(IConfiguration configuration, string sectionName, List<string> errors) where T : new()
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(errors);
        var target = new T();
        BindObject(configuration.GetSection(sectionName), target, errors);
        return target;
    }

    private static void BindObject(IConfigurationSection section, object target, List<string> errors)
    {
        var properties = target.GetType()
            .GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetSetMethod() is not null && p.GetIndexParameters().Length == 0)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var setting in section.GetChildren())
        {
            if (!properties.TryGetValue(setting.Key, out var property))
            {
                errors.Add($"{setting.Path} is not a setting (known: {string.Join(", ", properties.Keys.Order(StringComparer.Ordinal))}).");
                continue;
            }

            if (IsValue(property.PropertyType))
            {
                if (setting.Value is null)
                {
                    // A section where one value belongs (RaftCache:TickInterval:Foo=1), or an empty JSON object.
                    if (setting.GetChildren().Any()) errors.Add($"{setting.Path}{Switch(setting.Path)} must be {Expected(property.PropertyType, "")}, not a section.");
                    continue;
                }

                try
                {
                    property.SetValue(target, setting.Get(property.PropertyType));
                }
                catch (InvalidOperationException)
                {
                    errors.Add($"{setting.Path}{Switch(setting.Path)} must be {Expected(property.PropertyType, setting.Value)} (is '{setting.Value}').");
                }
            }
            else if (typeof(IEnumerable).IsAssignableFrom(property.PropertyType))
            {
                // Lists bind as a whole; none of the options bound here has one, other than through Orleans' types.
                try
                {
                    property.SetValue(target, setting.Get(property.PropertyType));
                }
                catch (InvalidOperationException e)
                {
                    errors.Add(ConfigurationErrors.Describe(e));
                }
            }
            else
            {
                if (setting.Value is not null && !setting.GetChildren().Any())
                {
                    errors.Add($"{setting.Path} is a section of settings, not a value (is '{setting.Value}').");
                    continue;
                }

                var nested = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType);
                if (nested is null) continue;
                BindObject(setting, nested, errors);
                property.SetValue(target, nested);
            }
        }
    }

    /// <summary>Whether a setting of this type is one value (what the configuration binder converts from a string).</summary>
    private static bool IsValue(Type type) => type == typeof(string) || TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    /// <summary>What a value of <paramref name="type"/> looks like, for the message about <paramref name="value"/>.</summary>
    internal static string Expected(Type type, string value)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"one of {string.Join(", ", Enum.GetNames(type))}";
        // A whole number that is too large gets the range; any other text is simply not a number.
        var whole = long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _) || value.Trim().All(char.IsAsciiDigit) && value.Trim().Length > 0;
        if (type == typeof(int)) return whole ? string.Create(CultureInfo.InvariantCulture, $"a whole number from {int.MinValue} to {int.MaxValue}") : "a whole number";
        if (type == typeof(long)) return whole ? string.Create(CultureInfo.InvariantCulture, $"a whole number from {long.MinValue} to {long.MaxValue}") : "a whole number";
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return "a number";
        if (type == typeof(bool)) return "true or false";
        if (type == typeof(TimeSpan)) return "a duration [d.]hh:mm:ss[.fff], for example 00:00:05 or 00:00:00.100";
        return $"a {type.Name}";
    }

    /// <summary>" (--switch)" when a command-line switch sets <paramref name="path"/>, else empty.</summary>
    private static string Switch(string path) =>
        SiloHostOptions.SwitchMappings.FirstOrDefault(m => string.Equals(m.Value, path, StringComparison.OrdinalIgnoreCase)).Key is { } name ? $" ({name})" : "";
}

using System.Reflection;

namespace RaftCache.Raft.Tests.Architecture;

/// <summary>The core is pure: it depends on nothing but the base class library (design §1, docs/design.md).</summary>
public class CoreDependencyTests
{
    [Fact]
    public void CoreAssemblyReferencesOnlyTheBaseClassLibrary()
    {
        var references = typeof(RawNode).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();

        Assert.NotEmpty(references);
        var foreign = references.Where(name => !(name == "System" || name.StartsWith("System.", StringComparison.Ordinal)
            || name == "netstandard" || name == "mscorlib")).ToList();
        Assert.True(foreign.Count == 0, $"The Raft core references non-BCL assemblies: {string.Join(", ", foreign)}");
    }

    [Fact]
    public void CoreAssemblyNeverMentionsOrleans()
    {
        var assembly = typeof(RawNode).Assembly;

        Assert.DoesNotContain(assembly.GetReferencedAssemblies(), a => a.Name!.Contains("Orleans", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(assembly.GetTypes(), t => t.GetCustomAttributes().Any(a => a.GetType().Namespace?.StartsWith("Orleans", StringComparison.Ordinal) == true));
    }
}

using Mono.Cecil;
using Mono.Cecil.Cil;

namespace DrWeb.Tests.Architecture;

/// <summary>
/// Which namespaces of an assembly use which others, read from signatures and method bodies (Cecil sees every type a
/// method body touches, which reflection does not). Compiler-generated nested types count for their outer type.
/// </summary>
public sealed class NamespaceGraph
{
    private readonly Dictionary<string, HashSet<string>> _uses = [];
    private readonly Dictionary<(string From, string To), HashSet<string>> _why = [];
    private readonly Dictionary<(string From, string To), HashSet<string>> _targets = [];

    public static NamespaceGraph Read(string assemblyPath, Func<string, string?> room)
    {
        var graph = new NamespaceGraph();
        using var assembly = AssemblyDefinition.ReadAssembly(assemblyPath);
        foreach (var type in assembly.MainModule.GetTypes())
        {
            var outer = type;
            while (outer.DeclaringType is not null) outer = outer.DeclaringType;
            if (room(outer.Namespace) is not { } from) continue;
            foreach (var used in UsedTypes(type))
            {
                var usedOuter = used;
                while (usedOuter.DeclaringType is not null) usedOuter = usedOuter.DeclaringType;
                if (usedOuter.Scope is AssemblyNameReference) continue; // another assembly
                if (room(usedOuter.Namespace) is not { } to || to == from) continue;
                graph.Add(from, to, $"{outer.FullName} -> {usedOuter.FullName}", usedOuter.Name);
            }
        }
        return graph;
    }

    public IEnumerable<string> Rooms => _uses.Keys;

    public IReadOnlySet<string> Uses(string room) => _uses.TryGetValue(room, out var set) ? set : new HashSet<string>();

    public IEnumerable<string> Why(string from, string to) =>
        _why.TryGetValue((from, to), out var reasons) ? reasons.Order().Take(5) : [];

    /// <summary>The (outermost) types of <paramref name="to"/> that <paramref name="from"/> uses, by name.</summary>
    public IReadOnlySet<string> TypesUsed(string from, string to) =>
        _targets.TryGetValue((from, to), out var names) ? names : new HashSet<string>();

    private void Add(string from, string to, string reason, string target)
    {
        (_targets.TryGetValue((from, to), out var names) ? names : _targets[(from, to)] = []).Add(target);
        (_uses.TryGetValue(from, out var set) ? set : _uses[from] = []).Add(to);
        (_why.TryGetValue((from, to), out var reasons) ? reasons : _why[(from, to)] = []).Add(reason);
    }

    private static IEnumerable<TypeReference> UsedTypes(TypeDefinition type)
    {
        if (type.BaseType is { } b) foreach (var t in Expand(b)) yield return t;
        foreach (var i in type.Interfaces) foreach (var t in Expand(i.InterfaceType)) yield return t;
        foreach (var a in type.CustomAttributes) yield return a.AttributeType;
        foreach (var f in type.Fields) foreach (var t in Expand(f.FieldType)) yield return t;
        foreach (var p in type.Properties) foreach (var t in Expand(p.PropertyType)) yield return t;
        foreach (var m in type.Methods)
        {
            foreach (var t in Expand(m.ReturnType)) yield return t;
            foreach (var p in m.Parameters) foreach (var t in Expand(p.ParameterType)) yield return t;
            if (!m.HasBody) continue;
            foreach (var v in m.Body.Variables) foreach (var t in Expand(v.VariableType)) yield return t;
            foreach (Instruction ins in m.Body.Instructions)
            {
                switch (ins.Operand)
                {
                    case TypeReference tr:
                        foreach (var t in Expand(tr)) yield return t;
                        break;
                    case MemberReference mr when mr.DeclaringType is not null:
                        foreach (var t in Expand(mr.DeclaringType)) yield return t;
                        if (mr is MethodReference method)
                        {
                            foreach (var t in Expand(method.ReturnType)) yield return t;
                            if (method is GenericInstanceMethod g)
                                foreach (var arg in g.GenericArguments) foreach (var t in Expand(arg)) yield return t;
                        }
                        break;
                }
            }
        }
    }

    private static IEnumerable<TypeReference> Expand(TypeReference type)
    {
        switch (type)
        {
            case GenericInstanceType g:
                yield return g.ElementType;
                foreach (var arg in g.GenericArguments) foreach (var t in Expand(arg)) yield return t;
                break;
            case TypeSpecification spec:
                foreach (var t in Expand(spec.ElementType)) yield return t;
                break;
            case GenericParameter:
                break;
            default:
                yield return type;
                break;
        }
    }
}

using System.Reflection;
using NetArchTest.Rules;
using Xunit;

namespace Conclave.Architecture.Tests;

/// <summary>
/// A module's public surface is its Contracts namespace (plus, for the Host's composition root only,
/// the module's registration class; the Host's pages get Contracts only). These tests fail the build
/// when code reaches past that.
/// </summary>
public sealed class ModuleBoundaryTests
{
    private static readonly Assembly[] Modules =
    [
        typeof(Conclave.Identity.IdentityModule).Assembly,
        typeof(Conclave.Sessions.SessionsModule).Assembly,
        typeof(Conclave.Agents.AgentsModule).Assembly,
        Assembly.Load("Conclave.Sandbox"),
        Assembly.Load("Conclave.Knowledge"),
        Assembly.Load("Conclave.Web"),
        Assembly.Load("Conclave.McpTools"),
        Assembly.Load("Conclave.Chat"),
    ];

    private static readonly Assembly Host = typeof(Program).Assembly;

    public static TheoryData<string, string> ModulePairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var from in Modules)
        {
            foreach (var to in Modules.Where(m => m != from))
            {
                data.Add(from.GetName().Name!, to.GetName().Name!);
            }
        }

        return data;
    }

    public static TheoryData<string> ModuleNames()
    {
        var data = new TheoryData<string>();
        foreach (var module in Modules)
        {
            data.Add(module.GetName().Name!);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModulePairs))]
    public void A_module_uses_only_the_contracts_of_another_module(string from, string to)
    {
        var forbidden = Internals(Assembly.Load(to), allowRegistration: false);

        var result = Types.InAssembly(Assembly.Load(from)).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"{from} depends on internals of {to}: {Describe(result)}");
    }

    [Theory]
    [MemberData(nameof(ModuleNames))]
    public void The_host_uses_only_contracts_and_registration_of_a_module(string module)
    {
        var forbidden = Internals(Assembly.Load(module), allowRegistration: true);

        var result = Types.InAssembly(Host).ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"The Host depends on internals of {module}: {Describe(result)}");
    }

    /// <summary>
    /// The Blazor pages are UI over the modules: what they touch of a module is its Contracts (its public query
    /// and command interfaces), never its internals or its registration, which are the composition root's.
    /// </summary>
    [Theory]
    [MemberData(nameof(ModuleNames))]
    public void The_host_pages_use_only_the_contracts_of_a_module(string module)
    {
        var forbidden = Internals(Assembly.Load(module), allowRegistration: false);
        var pages = Types.InAssembly(Host).That().ResideInNamespace("Conclave.Host.Components");
        Assert.Contains(pages.GetTypes(), t => t.FullName == "Conclave.Host.Components.Admin.AdminPage");

        var result = pages.ShouldNot().HaveDependencyOnAny(forbidden).GetResult();

        Assert.True(result.IsSuccessful, $"Host pages depend on more than the contracts of {module}: {Describe(result)}");
    }

    /// <summary>
    /// The key ring is the Identity module's: another module protects its secrets with a protector from
    /// Identity's <c>IKeyRing</c>, so the dependency shows in its references instead of hiding in a shared
    /// <c>IDataProtectionProvider</c> someone else happens to configure.
    /// </summary>
    [Fact]
    public void Only_the_identity_module_reaches_the_data_protection_provider()
    {
        string[] keyRing =
        [
            "Microsoft.AspNetCore.DataProtection.IDataProtectionProvider",
            "Microsoft.Extensions.DependencyInjection.DataProtectionServiceCollectionExtensions",
        ];
        var identity = typeof(Conclave.Identity.IdentityModule).Assembly;

        foreach (var assembly in Modules.Where(m => m != identity).Append(Host))
        {
            var result = Types.InAssembly(assembly).ShouldNot().HaveDependencyOnAny(keyRing).GetResult();

            Assert.True(result.IsSuccessful, $"{assembly.GetName().Name} uses Data Protection past Identity's IKeyRing: {Describe(result)}");
        }
    }

    [Theory]
    [MemberData(nameof(ModuleNames))]
    public void Module_contracts_depend_on_no_other_module(string module)
    {
        var assembly = Assembly.Load(module);
        var others = Modules.Where(m => m != assembly).Select(m => m.GetName().Name!).ToArray();

        var result = Types.InAssembly(assembly).That().ResideInNamespace($"{module}.Contracts")
            .ShouldNot().HaveDependencyOnAny(others).GetResult();

        Assert.True(result.IsSuccessful, $"Contracts of {module} depend on another module: {Describe(result)}");
    }

    /// <summary>Shared libraries (src/Shared) are used by modules, so they may depend on none of them, nor on the Host.</summary>
    [Fact]
    public void A_shared_library_depends_on_no_module()
    {
        var names = Modules.Select(m => m.GetName().Name!).Append(Host.GetName().Name!).ToArray();

        var result = Types.InAssembly(typeof(Conclave.Egress.EgressPolicy).Assembly).ShouldNot().HaveDependencyOnAny(names).GetResult();

        Assert.True(result.IsSuccessful, $"Conclave.Egress depends on a module: {Describe(result)}");
    }

    [Fact]
    public void Every_module_keeps_its_implementation_internal_or_in_contracts()
    {
        // Public types outside Contracts are allowed only where a framework needs them public
        // (Wolverine handlers and what they inject, registration classes, HTTP request records).
        foreach (var module in Modules)
        {
            var name = module.GetName().Name!;
            var injected = HandlerDependencies(module);
            var stray = module.GetExportedTypes()
                .Where(t => t.Namespace is { } ns && !ns.StartsWith($"{name}.Contracts", StringComparison.Ordinal))
                .Where(t => !IsAllowedPublic(t, name) && !injected.Contains(t))
                .Select(t => t.FullName)
                .ToList();

            Assert.True(stray.Count == 0, $"{name} exposes public types outside Contracts: {string.Join(", ", stray)}");
        }
    }

    /// <summary>Wolverine generates code that calls handlers, so what a handler takes must be public.</summary>
    private static HashSet<Type> HandlerDependencies(Assembly module) =>
        module.GetExportedTypes()
            .Where(t => t.Name.EndsWith("Handler", StringComparison.Ordinal))
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.Name is "Handle" or "HandleAsync")
            .SelectMany(m => m.GetParameters().Select(p => p.ParameterType))
            .ToHashSet();

    private static bool IsAllowedPublic(Type type, string module) =>
        type.Namespace == module && type.Name.EndsWith("Module", StringComparison.Ordinal)
        || type.Name.EndsWith("Handler", StringComparison.Ordinal)
        || type.Name.EndsWith("Request", StringComparison.Ordinal)
        || type.Name.EndsWith("Options", StringComparison.Ordinal);

    /// <summary>Namespaces and root-namespace types of a module that others must not touch.</summary>
    private static string[] Internals(Assembly module, bool allowRegistration)
    {
        var name = module.GetName().Name!;
        var types = module.GetTypes().Where(t => t.Namespace is not null && !t.Name.StartsWith('<')).ToList();
        // Only the module's own namespaces: generated code (e.g. System.Text.RegularExpressions.Generated) lives in every assembly.
        var namespaces = types.Select(t => t.Namespace!)
            .Where(ns => ns.StartsWith($"{name}.", StringComparison.Ordinal) && !ns.StartsWith($"{name}.Contracts", StringComparison.Ordinal))
            .Distinct();
        var rootTypes = types.Where(t => t.Namespace == name)
            .Where(t => !(allowRegistration && t.Name.EndsWith("Module", StringComparison.Ordinal)))
            .Select(t => t.FullName!.Split('`')[0]);
        return namespaces.Concat(rootTypes).Distinct().ToArray();
    }

    private static string Describe(TestResult result) =>
        string.Join(", ", result.FailingTypeNames ?? []);
}

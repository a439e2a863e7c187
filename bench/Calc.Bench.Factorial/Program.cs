using System.Diagnostics;
using System.Globalization;
using Calc.Numerics;

// Usage: Calc.Bench.Factorial n [runs] [budgetSeconds]
// Prints one tab-separated line: engine, n, digits, median seconds, runs measured.
// A warm-up run first (JIT, GMP load, heap growth): the same n when that is cheap, else a smaller one. Then up to
// `runs` timed runs, stopping early once `budgetSeconds` are spent (at least one timed run always happens).
if (args.Length < 1 || !int.TryParse(args[0], CultureInfo.InvariantCulture, out var n) || n < 0)
{
    Console.Error.WriteLine("usage: Calc.Bench.Factorial n [runs] [budgetSeconds]");
    return 2;
}

var runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 3;
var budget = TimeSpan.FromSeconds(args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 60);

BigMath.FactorialToDecimalString(n <= 200_000 ? n : 100_000);

var times = new List<double>();
var digits = 0;
var spent = Stopwatch.StartNew();
while (times.Count < runs && (times.Count == 0 || spent.Elapsed < budget))
{
    var clock = Stopwatch.StartNew();
    digits = BigMath.FactorialToDecimalString(n).Length;
    times.Add(clock.Elapsed.TotalSeconds);
}

times.Sort();
var median = times.Count % 2 == 1 ? times[times.Count / 2] : (times[(times.Count / 2) - 1] + times[times.Count / 2]) / 2;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{BigMath.EngineDescription}\t{n}\t{digits}\t{median:F6}\t{times.Count}"));
return 0;

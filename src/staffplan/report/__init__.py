"""Reports: the XLSX roster grid, the HTML run report and scenario comparisons."""

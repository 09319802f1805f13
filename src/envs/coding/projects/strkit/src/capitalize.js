// Upper-cases the first character and leaves the rest exactly as it was ('iPhone' -> 'IPhone').
// The empty string stays empty.
export function capitalize(str) {
  return str[0].toUpperCase() + str.slice(1).toLowerCase();
}
